import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { loggerOptions, prettyLogs } from '../../src/platform/logging.js'
import { waitFor } from '../helpers/wait.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

function isRunning (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

t.test('readable logs only for the demo at a terminal', async t => {
  t.equal(prettyLogs(true, { isTTY: true }), true)
  t.equal(prettyLogs(true, { isTTY: false }), false, 'the demo writing to a file or a pipe: JSON')
  t.equal(prettyLogs(true, {}), false)
  t.equal(prettyLogs(false, { isTTY: true }), false, 'production at a terminal: JSON')
  t.equal(loggerOptions('info').transport, undefined)
  t.match(loggerOptions('info', true), { transport: { target: 'pino-pretty' }, redact: { censor: '[REDACTED]' } })
})

t.test('the demo at a terminal prints pino-pretty lines', async t => {
  if (!existsSync(`${root}/dist/server.js`)) throw new Error('dist/server.js is missing: run `npm run build` (npm test does it)')
  const env: Record<string, string | undefined> = { ...process.env, KALEYRA_EMULATOR: 'true', HTTP_PORT: '0', LOG_LEVEL: 'info' }
  delete env.NODE_OPTIONS
  // script(1) gives the service a pseudo-terminal as stdout. It runs it in a session of its own,
  // so killing script's group would leave the service running: its pid is written down instead.
  const dir = mkdtempSync(join(tmpdir(), 'pretty-logs-'))
  const pidFile = join(dir, 'pid')
  const child = spawn('script', ['-qfec', `echo $$ > '${pidFile}'; exec node dist/server.js`, '/dev/null'], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(async () => {
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0
    // SIGTERM first: a process whose terminal vanished while it exits can hang in Node's own exit.
    if (pid > 0) {
      try { process.kill(pid, 'SIGTERM') } catch {}
      await waitFor('the demo to exit', () => !isRunning(pid)).catch(() => {})
      try { process.kill(pid, 'SIGKILL') } catch {}
    }
    try { process.kill(-(child.pid ?? 0), 'SIGKILL') } catch {}
    rmSync(dir, { recursive: true, force: true })
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.once('error', err => { output += `\n${err.message}` })
  await waitFor('the demo to say it listens', () => {
    if (child.exitCode !== null) throw new Error(`script(1) or the demo exited (${child.exitCode}): ${output}`)
    return /INFO.*Server listening at http:\/\/127\.0\.0\.1:/.test(output)
  })
  t.notMatch(output, '{"level":', 'no JSON lines')
  t.ok(existsSync(pidFile), 'the service\'s pid is known, so the test can stop it')
})
