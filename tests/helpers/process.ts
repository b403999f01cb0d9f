import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { existsSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { fileURLToPath } from 'node:url'
import { waitFor } from './wait.js'

export interface RunningProcess {
  child: ChildProcess
  /** stdout lines so far. */
  stdout: string[]
  stderr: string[]
  /** The JSON lines of stdout (pino), parsed. */
  logs: () => Array<Record<string, unknown>>
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** Waits (generously) for a log line matching the predicate and returns it. */
  waitForLog: (what: string, predicate: (line: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>>
}

interface Teardown { teardown: (fn: () => unknown) => void }

/**
 * Spawns `command` (executable first), collects its output, and kills it at the end of the test
 * if still running. Under tap, child Node processes get tap's coverage loader through NODE_OPTIONS.
 */
export function startProcess (t: Teardown, command: string[], opts: SpawnOptions): RunningProcess {
  const child = spawn(command[0], command.slice(1), { ...opts, stdio: ['ignore', 'pipe', 'pipe'] })
  const stdout: string[] = []
  const stderr: string[] = []
  const collect = (into: string[]) => {
    let rest = ''
    return (chunk: Buffer) => {
      const parts = (rest + chunk.toString('utf8')).split('\n')
      rest = parts.pop() ?? ''
      into.push(...parts)
    }
  }
  child.stdout?.on('data', collect(stdout))
  child.stderr?.on('data', collect(stderr))
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  const logs = () => stdout.filter(line => line.startsWith('{')).map(line => JSON.parse(line) as Record<string, unknown>)
  return {
    child,
    stdout,
    stderr,
    logs,
    exited,
    async waitForLog (what, predicate) {
      let found: Record<string, unknown> | undefined
      await waitFor(what, () => {
        if (child.exitCode !== null) throw new Error(`the process exited (${child.exitCode}) while waiting for: ${what}\n${stderr.join('\n')}`)
        found = logs().find(predicate)
        return found !== undefined
      })
      return found as Record<string, unknown>
    }
  }
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const SERVER_ENTRY = 'dist/server.js'

/**
 * The compiled service (`npm test` builds first) in a process of its own, on a free loopback
 * port, info logs: `env` adds the rest (Kaleyra, CRUD, deadlines). Resolves once it listens.
 */
export async function startCompiledServer (
  t: Teardown,
  env: Record<string, string | undefined>,
  nodeArgs: string[] = []
): Promise<{ proc: RunningProcess; url: string }> {
  if (!existsSync(`${ROOT}/${SERVER_ENTRY}`)) { throw new Error(`${SERVER_ENTRY} is missing: run \`npm run build\` (npm test does it)`) }
  const proc = startProcess(t, [process.execPath, ...nodeArgs, SERVER_ENTRY], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HTTP_PORT: '0', LOG_LEVEL: 'info', ...env }
  })
  const listening = await proc.waitForLog('the server to listen', r => String(r.msg).startsWith('Server listening at http://127.0.0.1:'))
  return { proc, url: String(listening.msg).replace('Server listening at ', '') }
}

export interface HttpAnswer { status: number, headers: Record<string, string | string[] | undefined>, body: string }

/**
 * One request on a fresh connection (no keep-alive), so "the server no longer accepts connections"
 * shows as a connection error instead of being hidden by a pooled socket.
 */
export async function httpCall (
  url: string,
  opts: { method?: string; headers?: Record<string, string>; json?: unknown } = {}
): Promise<HttpAnswer> {
  const payload = opts.json === undefined ? undefined : JSON.stringify(opts.json)
  const headers: Record<string, string> = { ...opts.headers }
  if (payload !== undefined) headers['content-type'] = 'application/json'
  return await new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? 'GET', headers, agent: false }, res => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(payload)
  })
}
