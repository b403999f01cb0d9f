// Child processes of the benchmark: the compiled service, bare Fastify, the Kaleyra emulator and
// the fast transcription source. Each listens on 127.0.0.1 (the service on every interface, as
// server.ts does) and is measured through /proc (RSS, peak RSS, CPU time).
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { root } from '../lib/build.mjs'
import { call } from './http.mjs'

export const SERVICE_ENTRY = join(root, 'dist', 'server.js')
export const BARE_ENTRY = join(root, 'scripts', 'bench', 'bare.mjs')
const EMULATOR_ENTRY = join(root, 'scripts', 'bench', 'emulator.mjs')
const FAST_SOURCE_ENTRY = join(root, 'scripts', 'bench', 'fast-source.mjs')

// The children run in an empty directory with only the variables given here: no `.env`, no
// NODE_OPTIONS or BANDYER_* inherited from the shell that started the benchmark.
const workDir = mkdtempSync(join(tmpdir(), 'tcs-bench-'))
const running = new Set()
// However the benchmark ends (even by process.exit), no child outlives it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
  rmSync(workDir, { recursive: true, force: true })
})
const devNull = openSync('/dev/null', 'w')
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
const MiB = 1024 * 1024

/** A port that was free a moment ago (the service must be told its port up front to be timed from spawn). */
export async function freePort () {
  const server = createServer()
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise(resolve => server.close(resolve))
  return port
}

/**
 * Spawns `node <entry>`. stdout (where pino writes) goes to /dev/null unless `readStdout`: then
 * the first JSON line the process prints is returned as `announced` (the emulator's url).
 */
export function startNode (name, entry, { env = {}, nodeArgs = [], readStdout = false } = {}) {
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    cwd: workDir,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', readStdout ? 'pipe' : devNull, 'pipe']
  })
  running.add(child)
  let stderr = ''
  child.stderr.on('data', chunk => { stderr = (stderr + chunk).slice(-4000) })
  const exited = new Promise(resolve => child.once('exit', (code, signal) => {
    running.delete(child)
    resolve({ code, signal })
  }))
  const failed = exited.then(({ code, signal }) => { throw new Error(`${name} exited (${code ?? signal}): ${stderr.trim()}`) })
  failed.catch(() => {})

  let announced
  if (readStdout) {
    announced = Promise.race([failed, new Promise(resolve => {
      let out = ''
      child.stdout.on('data', chunk => {
        out += chunk
        const line = out.split('\n').find(l => l.startsWith('{'))
        if (line !== undefined) resolve(JSON.parse(line))
      })
    })])
  }

  return {
    name,
    pid: child.pid,
    child,
    exited,
    failed,
    announced,
    async stop () {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
  }
}

/** Polls `url` every 2 ms until it answers 200; rejects if the process dies or after `timeoutMs`. */
export async function waitFor200 (proc, url, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  let exited = false
  proc.exited.then(() => { exited = true })
  while (true) {
    if (exited) await proc.failed
    try {
      const res = await call('GET', url)
      if (res.status === 200) return
    } catch {}
    if (Date.now() > deadline) throw new Error(`${proc.name}: ${url} did not answer 200 within ${timeoutMs} ms`)
    await sleep(2)
  }
}

/** The service: compiled, memory store, header identity, Kaleyra at `kaleyraUrl` (the emulator or the fast source). */
export async function startService (name, { kaleyraUrl, apiKey, logLevel = 'info', env = {}, nodeArgs = [] }) {
  const port = await freePort()
  const started = performance.now()
  const proc = startNode(name, SERVICE_ENTRY, {
    nodeArgs,
    env: {
      HTTP_PORT: String(port),
      LOG_LEVEL: logLevel,
      BANDYER_BASE_URL: kaleyraUrl,
      BANDYER_API_SECRET_KEY: apiKey,
      WAIT_BEFORE_SERVER_CLOSE_SEC: '0',
      ...env
    }
  })
  const url = `http://127.0.0.1:${port}`
  await waitFor200(proc, `${url}/-/ready`)
  return { ...proc, url, readyMs: performance.now() - started, readyCpuMs: cpuSeconds(proc.pid) * 1000 }
}

/** Bare Fastify 5 with the service's logger options and one JSON route at `/`. */
export async function startBare (name, { logLevel = 'info', nodeArgs = [] } = {}) {
  const port = await freePort()
  const started = performance.now()
  const proc = startNode(name, BARE_ENTRY, { nodeArgs, env: { HTTP_PORT: String(port), LOG_LEVEL: logLevel } })
  const url = `http://127.0.0.1:${port}`
  await waitFor200(proc, `${url}/`)
  return { ...proc, url, readyMs: performance.now() - started, readyCpuMs: cpuSeconds(proc.pid) * 1000 }
}

export async function startEmulator (apiKey) {
  const proc = startNode('Kaleyra emulator', EMULATOR_ENTRY, { env: { BENCH_API_KEY: apiKey }, readStdout: true })
  const { url } = await proc.announced
  return { ...proc, url, apiKey }
}

export async function startFastSource (upstreamUrl) {
  const proc = startNode('fast transcription source', FAST_SOURCE_ENTRY, { env: { BENCH_UPSTREAM: upstreamUrl }, readStdout: true })
  const { url } = await proc.announced
  return { ...proc, url }
}

function status (pid) {
  return readFileSync(`/proc/${pid}/status`, 'utf8')
}

function kib (pid, field) {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status(pid))
  if (match === null) throw new Error(`no ${field} for process ${pid}`)
  return Number(match[1]) * 1024
}

/** Resident memory now, in MiB. */
export const rssMiB = pid => kib(pid, 'VmRSS') / MiB

/** Peak resident memory since the last resetPeak (or the start), in MiB. */
export const peakRssMiB = pid => kib(pid, 'VmHWM') / MiB

/** Makes the peak start again from the current RSS (Linux: clear_refs 5). */
export function resetPeak (pid) {
  writeFileSync(`/proc/${pid}/clear_refs`, '5')
}

/** CPU time (user + system) the process has used so far, in seconds. */
export function cpuSeconds (pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}
