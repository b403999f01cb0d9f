// `npm run kaleyra:check`, compiled (`npm test` builds first), run as a child process against
// the emulator on 127.0.0.1: exit codes, the lines it prints, and what it leaves behind.
import t from 'tap'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { EmulatorSettings, KaleyraEmulator } from '../../src/emulator/index.js'
import { startEmulator, UPSTREAM_TIMEOUT_MS, type Tap } from '../helpers/app.js'
import { startProcess } from '../helpers/process.js'
import { waitFor } from '../helpers/wait.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const entry = join(root, 'dist/kaleyra-check/main.js')

interface Run { code: number | null, stdout: string, stderr: string, lines: string[] }

/** A working directory without .env (or with the given one), removed after the test. */
function workdir (t: Tap, dotenv?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kaleyra-check-'))
  if (dotenv !== undefined) writeFileSync(join(dir, '.env'), dotenv)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function kaleyraEnv (emulator: KaleyraEmulator): Record<string, string> {
  return {
    BANDYER_BASE_URL: emulator.url,
    BANDYER_API_SECRET_KEY: emulator.apiKey,
    KALEYRA_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS)
  }
}

function start (t: Tap, env: Record<string, string>, args: string[] = [], cwd = workdir(t)) {
  if (!existsSync(entry)) throw new Error('dist/kaleyra-check/main.js is missing: run `npm run build` (npm test does it)')
  return startProcess(t, [process.execPath, entry, ...args], { cwd, env: { PATH: process.env.PATH, ...env } })
}

async function check (t: Tap, env: Record<string, string>, args: string[] = [], cwd?: string): Promise<Run> {
  const child = start(t, env, args, cwd)
  const { code } = await child.exited
  // Let the last chunks of output arrive.
  await new Promise(resolve => setImmediate(resolve))
  return { code, stdout: child.stdout.join('\n'), stderr: child.stderr.join('\n'), lines: child.stdout }
}

async function emulatorWith (t: Tap, settings: Partial<EmulatorSettings> = {}): Promise<KaleyraEmulator> {
  return await startEmulator(t, settings)
}

/** Nothing secret or personal in what the check printed. */
function printsNoSecret (t: Tap, run: Run, emulator: KaleyraEmulator): void {
  const all = run.stdout + run.stderr
  t.notOk(all.includes(emulator.apiKey), 'never the API key')
  t.notOk(/\/join\/|\/files\//.test(all), 'never a link')
}

const CALLS = ['createUser', 'getUser', 'createRoom', 'getRoom', 'listRooms', 'listUploads', 'listSessions', 'createSdkCredentials', 'getCompany', 'listVirtualBackgrounds', 'deleteRoom', 'updateUser']

t.test('against the emulator: every call ok, exit 0, no room left, test users deactivated; a second run reuses them', async t => {
  const emulator = await emulatorWith(t)
  const first = await check(t, kaleyraEnv(emulator))
  t.equal(first.code, 0, first.stdout + first.stderr)
  const calls = first.lines.filter(line => /^(ok|mismatch|failed|skipped) /.test(line))
  t.ok(calls.length >= CALLS.length && calls.every(line => line.startsWith('ok ')), 'one ok line per call')
  for (const call of CALLS) t.ok(calls.some(line => line.split(/\s+/)[1] === call), `${call} is checked`)
  t.match(first.stdout, /^\d+ calls: \d+ ok, 0 mismatch, 0 failed, 0 skipped$/m)
  t.match(first.stdout, /Left on Kaleyra: user tcs-check-plus \(inactive; reused next time\); user tcs-check-basic/)
  t.equal(emulator.liveRooms().length, 0, 'no live room')
  t.same(['tcs-check-plus', 'tcs-check-basic'].map(id => emulator.user(id)?.active), [false, false])
  t.ok(emulator.userAgents().length > 0 && emulator.userAgents().every(ua => ua.includes('(kaleyra:check)')), `user agent: ${emulator.userAgents().join(', ')}`)
  printsNoSecret(t, first, emulator)

  const second = await check(t, kaleyraEnv(emulator))
  t.equal(second.code, 0)
  t.match(second.stdout, /^ok\s+createUser\s+POST \/v2\/users\s+tcs-check-plus \(plus\); already there/m)
  t.match(second.stdout, /^ok\s+updateUser\s+PUT \/v2\/users\/\{id\}\s+tcs-check-plus \(plus\); set active/m, 'reactivated before use')
  t.equal(emulator.users().length, 2, 'the same two users')
  t.equal(emulator.liveRooms().length, 0)
})

t.test('links answered under another field name: exit 1, the createRoom line names the call and the field; the room is deleted', async t => {
  const emulator = await emulatorWith(t, { roomLinkField: 'join_url' })
  const run = await check(t, kaleyraEnv(emulator))
  t.equal(run.code, 1)
  const failing = run.lines.filter(line => !line.startsWith('ok ') && /^(mismatch|failed|skipped) /.test(line))
  t.equal(failing.length, 1, failing.join('\n'))
  t.match(failing[0], /^mismatch\s+createRoom\s+POST \/v2\/rooms\s+.*missing participants\[\]\.link; unexpected participants\[\]\.join_url$/)
  t.match(run.stdout, /^ok\s+deleteRoom/m, 'the room it could not use was still deleted')
  t.equal(emulator.liveRooms().length, 0)
  printsNoSecret(t, run, emulator)
})

t.test('created users answered without their id: exit 1, the createUser line names the call and the field', async t => {
  const emulator = await emulatorWith(t, { omitCreatedUserId: true })
  const run = await check(t, kaleyraEnv(emulator))
  t.equal(run.code, 1)
  t.match(run.stdout, /^mismatch\s+createUser\s+POST \/v2\/users\s+tcs-check-plus \(plus\); .*missing id$/m)
  t.same(['tcs-check-plus', 'tcs-check-basic'].map(id => emulator.user(id)?.active), [false, false], 'the users it created anyway are deactivated')
  t.equal(emulator.liveRooms().length, 0)
})

t.test('--json prints the same as one JSON document', async t => {
  const emulator = await emulatorWith(t)
  const run = await check(t, kaleyraEnv(emulator), ['--json'])
  t.equal(run.code, 0)
  const report = JSON.parse(run.stdout)
  t.match(report, {
    target: new URL(emulator.url).host,
    ok: true,
    interrupted: false,
    summary: { mismatch: 0, failed: 0, skipped: 0 }
  })
  t.equal(report.summary.ok, report.calls.length)
  t.match(report.calls[0], { call: 'createUser', request: 'POST /v2/users', subject: 'tcs-check-plus (plus)', result: 'ok' })
  t.match(report.remains, [/^user tcs-check-plus/, /^user tcs-check-basic/])
})

t.test('BANDYER_* from a .env file in the working directory', async t => {
  const emulator = await emulatorWith(t)
  const dotenv = `BANDYER_BASE_URL=${emulator.url}\nBANDYER_API_SECRET_KEY=${emulator.apiKey}\nKALEYRA_TIMEOUT_MS=${UPSTREAM_TIMEOUT_MS}\n`
  const run = await check(t, {}, [], workdir(t, dotenv))
  t.equal(run.code, 0, run.stderr)
})

t.test('recording with transcription on a company without it: the createRoom line says Kaleyra refused; OFFLINE_TRANSCRIPTION=false passes', async t => {
  const emulator = await emulatorWith(t, { offlineTranscription: false })
  const refused = await check(t, { ...kaleyraEnv(emulator), DEFAULT_RECORDING_TYPE: 'automatic' })
  t.equal(refused.code, 1)
  t.match(refused.stdout, /^failed\s+createRoom\s+POST \/v2\/rooms\s+recording automatic with offline transcription; status 400 \(transcription_not_enabled\)/m)
  const fixed = await check(t, { ...kaleyraEnv(emulator), DEFAULT_RECORDING_TYPE: 'automatic', OFFLINE_TRANSCRIPTION: 'false' })
  t.equal(fixed.code, 0)
  t.match(fixed.stdout, /\(recording automatic, offline transcription off\)/)
})

t.test('a call that fails: a failed line with the status, and the room is still deleted', async t => {
  const emulator = await emulatorWith(t)
  emulator.faults.add({ method: 'GET', path: /^\/v2\/company$/, kind: 'status', status: 503 })
  const run = await check(t, kaleyraEnv(emulator))
  t.equal(run.code, 1)
  t.match(run.stdout, /^failed\s+getCompany\s+GET \/v2\/company\s+status 503: error answer$/m)
  t.match(run.stdout, /^\d+ calls: \d+ ok, 0 mismatch, 1 failed, 0 skipped$/m)
  t.equal(emulator.liveRooms().length, 0)
})

t.test('Ctrl-C: the current call ends, the rest is not made, the room is deleted and the users deactivated; exit 130', async t => {
  const emulator = await emulatorWith(t)
  emulator.faults.add({ method: 'GET', path: '/v2/sessions', kind: 'latency', ms: 1_500, times: 1 })
  const child = start(t, kaleyraEnv(emulator))
  await waitFor('the check to reach the sessions call', () => emulator.requests().some(r => r.path === '/v2/sessions'))
  t.equal(emulator.liveRooms().length, 1, 'the room exists while the check runs')
  child.child.kill('SIGINT')
  const { code } = await child.exited
  t.equal(code, 130)
  const stdout = child.stdout.join('\n')
  t.match(stdout, /^ok\s+listSessions/m, 'the call in flight completed')
  t.notMatch(stdout, /createSdkCredentials/, 'no new call after Ctrl-C')
  t.match(stdout, /^ok\s+deleteRoom/m)
  t.match(stdout, /Interrupted: the remaining calls were not made\./)
  t.match(child.stderr.join('\n'), /cleaning up/)
  t.equal(emulator.liveRooms().length, 0)
  t.same(['tcs-check-plus', 'tcs-check-basic'].map(id => emulator.user(id)?.active), [false, false])
})

t.test('--with-background uploads a background and never changes the company default', async t => {
  const emulator = await emulatorWith(t)
  const dir = workdir(t)
  const file = join(dir, 'background.jpg')
  writeFileSync(file, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46]))
  const run = await check(t, kaleyraEnv(emulator), ['--with-background', file], dir)
  t.equal(run.code, 0, run.stdout)
  t.match(run.stdout, /^ok\s+uploadVirtualBackground\s+POST \/v2\/company\/virtual-background\s+alias [0-9a-f]{32}; the company default is unchanged$/m)
  t.match(run.stdout, /Left on Kaleyra: .*the virtual background [0-9a-f]{32} \(there is no call to delete it\)/)
  const company = await (await fetch(`${emulator.url}/v2/company`, { headers: { apikey: emulator.apiKey } })).json() as { default_background: unknown }
  t.equal(company.default_background, null)
})

t.test('--with-session asks for the recording link of a recorded session (never shown); a session without one is a mismatch', async t => {
  const emulator = await emulatorWith(t)
  const kaleyra = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${emulator.url}${path}`, { method: 'POST', headers: { apikey: emulator.apiKey, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return await res.json() as Record<string, unknown>
  }
  await kaleyra('/v2/users', { id: 'doc', role: 'plus' })
  await kaleyra('/v2/users', { id: 'pat', role: 'basic' })
  const room = await kaleyra('/v2/rooms', { participants: [{ user_id: 'doc', is_admin: true }, { user_id: 'pat', is_admin: false }], recording: 'automatic' })
  const recorded = emulator.addSession(String(room.room_id))
  emulator.setRecordingReady(recorded)
  const run = await check(t, kaleyraEnv(emulator), ['--with-session', recorded])
  t.equal(run.code, 0, run.stdout)
  t.match(run.stdout, new RegExp(`^ok\\s+getRecording\\s+GET /v2/sessions/\\{id\\}/recording\\s+${recorded}; a temporary link \\(not shown\\), valid about \\d+ s \\(30 s asked\\)$`, 'm'))
  printsNoSecret(t, run, emulator)

  const notReady = await check(t, kaleyraEnv(emulator), ['--with-session', emulator.addSession(String(room.room_id))])
  t.equal(notReady.code, 1)
  t.match(notReady.stdout, /^mismatch\s+getRecording\s+.*no recording for this session/m)
  t.equal((await check(t, kaleyraEnv(emulator), ['--with-session', 'not a session'])).code, 2, 'not a session id: a usage error')
})

t.test('usage and configuration errors: exit 2, no call made', async t => {
  const emulator = await emulatorWith(t)
  const unknown = await check(t, kaleyraEnv(emulator), ['--nope'])
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /Usage: npm run kaleyra:check/)
  const missingFile = await check(t, kaleyraEnv(emulator), ['--with-background', '/nonexistent/bg.jpg'])
  t.equal(missingFile.code, 2)
  const unconfigured = await check(t, {})
  t.equal(unconfigured.code, 2)
  t.match(unconfigured.stderr, /^Configuration error: BANDYER_API_SECRET_KEY is required/m)
  const emulated = await check(t, { KALEYRA_EMULATOR: 'true' })
  t.equal(emulated.code, 2)
  t.match(emulated.stderr, /checks a Kaleyra account/)
  t.equal(emulator.requests().length, 0)
  const help = await check(t, {}, ['--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /tcs-check-plus/)
})
