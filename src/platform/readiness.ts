import type { FastifyBaseLogger } from 'fastify'
import type { KaleyraReachability } from '../kaleyra/client.js'

export type Readiness = { ready: true } | { ready: false, message: string }

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

/**
 * Answers "can this instance serve traffic?" for /-/ready and /-/check-up: the stores and Kaleyra
 * must answer. Results are cached and concurrent probes share one check. After beginShutdown()
 * the answer is "no" for good, so the platform stops routing requests here before we close.
 */
export function createReadinessCheck (deps: ReadinessDeps) {
  const now = deps.now ?? Date.now
  let cached: { result: Readiness, at: number } | undefined
  let running: Promise<Readiness> | undefined
  let shuttingDown = false
  let lastReady: boolean | undefined

  async function withDeadline (name: string, check: () => Promise<string | null>): Promise<string | null> {
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<string>(resolve => {
      timer = setTimeout(() => resolve(`${name}: no answer within ${deps.timeoutMs} ms`), deps.timeoutMs)
    })
    try {
      return await Promise.race([check().catch(() => `${name}: unavailable`), deadline])
    } finally {
      clearTimeout(timer)
    }
  }

  async function checkNow (): Promise<Readiness> {
    const problems = await Promise.all([
      ...deps.stores.map(store => withDeadline(store.name, async () => { await store.ping(); return null })),
      withDeadline('Kaleyra', async () => {
        const kaleyra = await deps.kaleyra.ping(deps.timeoutMs)
        return kaleyra.reachable ? null : `Kaleyra: ${kaleyra.reason}`
      })
    ])
    const failed = problems.filter((p): p is string => p !== null)
    const result: Readiness = failed.length === 0 ? { ready: true } : { ready: false, message: failed.join('; ') }
    // Logged on changes only: a dependency down for an hour must not print a line per probe.
    if (result.ready !== lastReady) {
      if (result.ready) deps.log.info('dependencies reachable: ready')
      else deps.log.warn({ reason: result.message }, 'dependencies unavailable: not ready')
      lastReady = result.ready
    }
    return result
  }

  return {
    async check (): Promise<Readiness> {
      if (shuttingDown) return { ready: false, message: 'shutting down' }
      if (cached !== undefined && now() - cached.at < deps.cacheMs) return cached.result
      running ??= checkNow().then(result => {
        cached = { result, at: now() }
        return result
      }).finally(() => { running = undefined })
      return await running
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
