import type { FastifyBaseLogger } from 'fastify'
import type { KaleyraReachability } from '../kaleyra/client.js'

/** `failing` names each dependency that cannot be used (none while shutting down). */
export type Readiness = { ready: true } | { ready: false, message: string, failing: string[] }

export interface ReadinessDeps {
  /** Named checks that throw (or time out) when their dependency cannot be used. */
  stores: Array<{ name: string, ping: () => Promise<void> }>
  kaleyra: { ping: (timeoutMs: number) => Promise<KaleyraReachability> }
  log: FastifyBaseLogger
  /** How long a result is reused: probes from several kubelets must not turn into Kaleyra traffic. */
  cacheMs: number
  /** Deadline of each check; a dependency slower than this counts as down. */
  timeoutMs: number
  now?: () => number
}

export type ReadinessCheck = ReturnType<typeof createReadinessCheck>

/** lc39 logs every KO probe answer at error with this message; alerts are built on it. */
export const NOT_OK_MESSAGE = 'Service status is not ok'
/** At most one such line per probe route and set of failing dependencies in this time. */
export const NOT_OK_LOG_INTERVAL_MS = 10_000

interface Problem { name: string, message: string }

/**
 * A check whose result is reused for `cacheMs` and shared by concurrent callers; its changes
 * (up to down, down to up) are logged once each, not at every probe.
 */
function cachedCheck (deps: ReadinessDeps, run: () => Promise<Problem[]>, onChange: (problems: Problem[]) => void) {
  const now = deps.now ?? Date.now
  let cached: { problems: Problem[], at: number } | undefined
  let running: Promise<Problem[]> | undefined
  let lastOk: boolean | undefined
  return async (): Promise<Problem[]> => {
    if (cached !== undefined && now() - cached.at < deps.cacheMs) return cached.problems
    running ??= run().then(problems => {
      cached = { problems, at: now() }
      if ((problems.length === 0) !== lastOk) {
        lastOk = problems.length === 0
        onChange(problems)
      }
      return problems
    }).finally(() => { running = undefined })
    return await running
  }
}

/**
 * /-/ready asks "can this replica serve at all?": its stores must answer, and it must not be
 * shutting down. Kaleyra is shared by every replica, so its failures do not make a replica unready
 * (that would take them all out of the load balancer, even for requests that need no Kaleyra
 * call); /-/check-up reports it. After beginShutdown() both answer "no" for good, so the platform
 * stops routing requests here before we close.
 */
export function createReadinessCheck (deps: ReadinessDeps) {
  const now = deps.now ?? Date.now
  let shuttingDown = false
  const lastNotOk = new Map<string, number>()

  async function withDeadline (name: string, check: () => Promise<string | null>): Promise<Problem | null> {
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<string>(resolve => {
      timer = setTimeout(() => resolve(`${name}: no answer within ${deps.timeoutMs} ms`), deps.timeoutMs)
    })
    try {
      const message = await Promise.race([check().catch(() => `${name}: unavailable`), deadline])
      return message === null ? null : { name, message }
    } finally {
      clearTimeout(timer)
    }
  }

  const stores = cachedCheck(
    deps,
    async () => {
      const problems = await Promise.all(
        deps.stores.map(store =>
          withDeadline(store.name, async () => {
            await store.ping()
            return null
          })
        )
      )
      return problems.filter((p): p is Problem => p !== null)
    },
    problems => {
      if (problems.length === 0) deps.log.info('dependencies reachable: ready')
      else deps.log.warn({ reason: describe(problems) }, 'dependencies unavailable: not ready')
    }
  )

  const kaleyra = cachedCheck(deps, async () => {
    const problem = await withDeadline('Kaleyra', async () => {
      const reachability = await deps.kaleyra.ping(deps.timeoutMs)
      return reachability.reachable ? null : `Kaleyra: ${reachability.reason}`
    })
    return problem === null ? [] : [problem]
  }, problems => {
    if (problems.length === 0) deps.log.info('Kaleyra reachable')
    else deps.log.warn({ reason: describe(problems) }, 'Kaleyra unavailable')
  })

  function describe (problems: Problem[]): string {
    return problems.map(p => p.message).join('; ')
  }

  function result (problems: Problem[]): Readiness {
    if (shuttingDown) return { ready: false, message: 'shutting down', failing: [] }
    return problems.length === 0
      ? { ready: true }
      : { ready: false, message: describe(problems), failing: problems.map(p => p.name) }
  }

  return {
    /** /-/ready: the stores answer and the replica is not shutting down. */
    async ready (): Promise<Readiness> {
      if (shuttingDown) return result([])
      return result(await stores())
    },

    /** /-/check-up: the same, and Kaleyra answers with a key it accepts. */
    async checkUp (): Promise<Readiness> {
      if (shuttingDown) return result([])
      const [storeProblems, kaleyraProblems] = await Promise.all([stores(), kaleyra()])
      return result([...storeProblems, ...kaleyraProblems])
    },

    /**
     * Logs a KO probe answer as lc39 does (`Service status is not ok`, at error), with the failing
     * dependencies, at most once per NOT_OK_LOG_INTERVAL_MS for a route and those dependencies.
     * Shutting down is expected (and logged when it starts), so it is not an error.
     */
    reportNotOk (route: string, answer: Readiness): void {
      if (answer.ready || answer.failing.length === 0) return
      const key = `${route} ${answer.failing.join(',')}`
      const last = lastNotOk.get(key)
      if (last !== undefined && now() - last < NOT_OK_LOG_INTERVAL_MS) return
      lastNotOk.set(key, now())
      deps.log.error({ route, dependencies: answer.failing, debugInfo: { status: 'KO', message: answer.message } }, NOT_OK_MESSAGE)
    },

    /** From now on the instance reports not ready (SIGTERM received). */
    beginShutdown (): void {
      shuttingDown = true
    },

    get shuttingDown (): boolean {
      return shuttingDown
    }
  }
}
