import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startKaleyraEmulator } from '../src/emulator/index.js'
import { readPackage } from '../src/lib/package-info.js'
import { startEmulator, UPSTREAM_TIMEOUT_MS } from './helpers/app.js'
import { startCrud } from './helpers/crud.js'
import { body, isoFromNow } from './helpers/fixtures.js'
import { httpCall, startCompiledServer, startProcess, type RunningProcess } from './helpers/process.js'
import { hasSample, parsePrometheus, sampleValue } from './helpers/prometheus.js'
import { waitFor, WAIT_TIMEOUT_MS } from './helpers/wait.js'

// The compiled server (`npm test` builds first), started the way the container starts it.
const root = fileURLToPath(new URL('..', import.meta.url))
const entry = 'dist/server.js'
const apiKey = 'ak_child_process_secret_3f9a'
const { name, version } = readPackage()
/** Upstream deadlines of the child processes: long, as in the other tests (helpers/app.ts). */
const LONG_DEADLINES = {
  KALEYRA_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
  CRUD_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
  STATUS_CHECK_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS)
}

interface Teardown { teardown: (fn: () => unknown) => void }

async function startServer (
  t: Teardown,
  env: Record<string, string>
): Promise<{ server: RunningProcess; url: string; emulatorUrl: string }> {
  if (!existsSync(`${root}/${entry}`)) { throw new Error('dist/server.js is missing: run `npm run build` (npm test does it)') }
  const server = startProcess(t, [process.execPath, entry], {
    cwd: root,
    env: { PATH: process.env.PATH, KALEYRA_EMULATOR: 'true', BANDYER_API_SECRET_KEY: apiKey, HTTP_PORT: '0', LOG_LEVEL: 'info', ...LONG_DEADLINES, ...env }
  })
  const listening = await server.waitForLog('the server to listen', r => String(r.msg).startsWith('Server listening at http://127.0.0.1:'))
  const url = String(listening.msg).replace('Server listening at ', '')
  let emulatorUrl = ''
  await waitFor('the emulator address', () => {
    emulatorUrl = server.stdout.map(line => /Kaleyra emulator: +(http:\/\/\S+)/.exec(line)?.[1]).find(u => u !== undefined) ?? ''
    return emulatorUrl !== ''
  })
  return { server, url, emulatorUrl }
}

t.test('the compiled server answers probes and metrics, logs the platform way and never logs secrets', async t => {
  const { server, url } = await startServer(t, { WAIT_BEFORE_SERVER_CLOSE_SEC: '0' })
  for (const path of ['/-/healthz', '/-/ready', '/-/check-up']) {
    const res = await httpCall(url + path)
    t.equal(res.status, 200, path)
    t.same(JSON.parse(res.body), { status: 'OK', name, version })
  }

  const headers = { miauserid: 'doctor-1', cookie: 'sid=child-cookie-secret', authorization: 'Bearer child-token-secret', 'x-request-id': 'child-1' }
  const created = await httpCall(`${url}/teleconsultation`, { method: 'POST', json: body(), headers })
  t.equal(created.status, 201)
  const id: string = JSON.parse(created.body).roomId
  t.equal((await httpCall(`${url}/teleconsultation/${id}`, { headers })).status, 200)

  const metrics = await httpCall(`${url}/-/metrics`)
  t.match(metrics.headers['content-type'], /^text\/plain/)
  const samples = parsePrometheus(metrics.body)
  t.ok(hasSample(samples, 'process_cpu_user_seconds_total'), 'process metrics')
  t.equal(sampleValue(samples, 'http_request_duration_seconds_count', { method: 'POST', route: '/teleconsultation', status_code: '201' }), 1, 'route metrics')
  t.equal(sampleValue(samples, 'upstream_requests_total', { target: 'kaleyra', operation: 'createRoom', status_class: '2xx' }), 1, 'upstream metrics')
  t.equal(sampleValue(samples, 'teleconsultations_created_total'), 1, 'domain counters')

  server.child.kill('SIGTERM')
  t.same(await server.exited, { code: 0, signal: null }, 'SIGTERM ends the process with code 0')

  const logs = server.logs()
  t.ok(logs.length > 5)
  t.ok(logs.every(r => typeof r.level === 'number' && typeof r.time === 'number' && r.time > 1e12), 'pino JSON, numeric levels, epoch ms')
  const completed = logs.filter(r => r.msg === 'request completed')
  t.same(completed.map(r => (r.url as { path: string }).path), ['/teleconsultation', `/teleconsultation/${id}`], 'one line per API request, none for probes or scrapes')
  t.match(completed[0], { level: 30, reqId: 'child-1', http: { request: { method: 'POST' }, response: { statusCode: 201 } }, responseTime: Number })
  const output = server.stdout.join('\n') + server.stderr.join('\n')
  for (const secret of [apiKey, 'child-cookie-secret', 'child-token-secret', 'Dr doctor-1', 'Patient patient-1', '/join/']) {
    t.notOk(output.includes(secret), `"${secret}" is not in the output`)
  }
})

t.test('SIGTERM: not ready at once, still serving during the delay, in-flight requests finish, then exit 0', async t => {
  // The checks "during the delay" take a few tens of ms on an idle machine: 2 s leaves room.
  const { server, url, emulatorUrl } = await startServer(t, { WAIT_BEFORE_SERVER_CLOSE_SEC: '2', STATUS_CHECK_CACHE_MS: '0' })
  t.equal((await httpCall(`${url}/-/ready`)).status, 200)
  // Kaleyra will take 4 s to create the next room: past the 2 s delay, within the 3.5 s the close
  // lets requests in progress go on (docs/operations.md, "Shutdown").
  const fault = await httpCall(`${emulatorUrl}/_emulator/faults`, { method: 'POST', json: { method: 'POST', path: '/v2/rooms', kind: 'latency', ms: 4000, times: 1 } })
  t.equal(fault.status, 201)
  const slow = httpCall(`${url}/teleconsultation`, { method: 'POST', json: body({ start: isoFromNow(-60_000) }) })
  await waitFor('the slow request to reach Kaleyra', async () => {
    const state = JSON.parse((await httpCall(`${emulatorUrl}/_emulator/state`)).body) as { users: unknown[] }
    return state.users.length === 2
  })

  server.child.kill('SIGTERM')
  await server.waitForLog('shutdown to begin', r => r.msg === 'shutting down: reporting not ready')
  const ready = await httpCall(`${url}/-/ready`)
  t.equal(ready.status, 503, 'not ready as soon as SIGTERM arrives')
  t.same(JSON.parse(ready.body), { status: 'KO', name, version, message: 'shutting down' })
  t.equal((await httpCall(`${url}/-/healthz`)).status, 200, 'alive and still accepting during the delay')

  await server.waitForLog('the server to close', r => r.msg === 'closing the server')
  await waitFor('new connections to be refused', async () => await httpCall(`${url}/-/healthz`).then(() => false, () => true))
  const answer = await slow
  t.equal(answer.status, 201, 'the in-flight request completed')
  t.same(await server.exited, { code: 0, signal: null })

  const messages = server.logs().map(r => r.msg)
  const order = ['shutting down: reporting not ready', 'closing the server', 'request completed', 'closed'].map(m => messages.lastIndexOf(m))
  t.same(order, [...order].sort((a, b) => a - b), 'logged in order: not ready, closing, the in-flight request completed, closed')
  t.ok(order.every(i => i >= 0))
})

t.test('the compiled server: /-/check-up turns 503 while Kaleyra is stopped and 200 when it is back; /-/ready and /-/healthz stay 200', async t => {
  const emulator = await startEmulator(t)
  const server = startProcess(t, [process.execPath, entry], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      BANDYER_BASE_URL: emulator.url,
      BANDYER_API_SECRET_KEY: emulator.apiKey,
      HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      WAIT_BEFORE_SERVER_CLOSE_SEC: '0',
      STATUS_CHECK_CACHE_MS: '200',
      STATUS_CHECK_TIMEOUT_MS: '500'
    }
  })
  const listening = await server.waitForLog('the server to listen', r => String(r.msg).startsWith('Server listening at http://127.0.0.1:'))
  const url = String(listening.msg).replace('Server listening at ', '')
  const status = async (path: string) => (await httpCall(url + path)).status
  t.equal(await status('/-/ready'), 200)
  t.equal(await status('/-/check-up'), 200)

  await emulator.close()
  await waitFor('check-up to turn 503', async () => await status('/-/check-up') === 503)
  t.same(JSON.parse((await httpCall(`${url}/-/check-up`)).body), { status: 'KO', name, version, message: 'Kaleyra: unreachable' })
  t.equal(await status('/-/ready'), 200, 'still ready: a Kaleyra outage does not take the replica out of the load balancer')
  t.equal(await status('/-/healthz'), 200, 'the process is alive: no restart for a Kaleyra outage')

  const back = await startKaleyraEmulator({ apiKey: emulator.apiKey, port: Number(new URL(emulator.url).port) })
  t.teardown(() => back.close())
  await waitFor('check-up to turn 200 again', async () => await status('/-/check-up') === 200)

  server.child.kill('SIGTERM')
  t.same(await server.exited, { code: 0, signal: null })
  t.same(server.logs().filter(r => /^Kaleyra (reachable|unavailable)$/.test(String(r.msg))).map(r => [r.level, r.msg]),
    [[30, 'Kaleyra reachable'], [40, 'Kaleyra unavailable'], [30, 'Kaleyra reachable']], 'each change logged once')
  t.match(server.logs().find(r => r.msg === 'Service status is not ok'), { level: 50, route: '/-/check-up', dependencies: ['Kaleyra'] }, 'the KO answer logged at error, as lc39 does')
})

function run (env: Record<string, string>) {
  const clean: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }
  return spawnSync(process.execPath, [entry], { cwd: root, env: { ...clean, ...env }, encoding: 'utf8', timeout: WAIT_TIMEOUT_MS })
}

t.test('a bad configuration stops the process with one line naming the problem', async t => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{}, /^Configuration error: BANDYER_API_SECRET_KEY is required/],
    [{ BANDYER_API_SECRET_KEY: 'k', BANDYER_BASE_URL: 'https://api.sandbox.eu.bandyer.com', HTTP_PORT: 'abc' }, /^Configuration error: HTTP_PORT must be integer/],
    [{ KALEYRA_EMULATOR: 'true', TELECONSULTATION_SERVICE_CONFIG_PATH: fileURLToPath(new URL('config/fixtures/bad-group.json', import.meta.url)) },
      /^Configuration error: service configuration: privileges\.basic\.groups/]
  ]
  for (const [env, message] of cases) {
    const result = run(env)
    t.equal(result.status, 1, 'exit code 1')
    t.match(result.stderr, message)
    t.equal(result.stderr.trim().split('\n').length, 1, 'a single line')
    t.notOk(result.stderr.includes('    at '), 'no stack trace')
  }
})

t.test('npm run demo serves the scripted scenario exactly as the contract says, then stops on SIGTERM', async t => {
  // The demo compiles first when the sources changed: done here, so the start-up deadline below
  // does not include a compilation (a minute or more on a loaded machine).
  const build = spawnSync(process.execPath, ['-e', 'import("./scripts/lib/build.mjs").then(m => m.buildIfStale())'], { cwd: root, encoding: 'utf8' })
  t.equal(build.status, 0, build.stderr)
  const demo = spawn(process.execPath, ['scripts/demo.mjs'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HTTP_PORT: '0', LOG_LEVEL: 'warn', KALEYRA_TIMEOUT_MS: LONG_DEADLINES.KALEYRA_TIMEOUT_MS },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { if (demo.exitCode === null) demo.kill('SIGKILL') })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start: ${output}`)), WAIT_TIMEOUT_MS)
    demo.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = /Teleconsultation service \(demo\): (http:\/\/\S+)/.exec(output)
      if (match !== null) { clearTimeout(timer); resolve(match[1]) }
    })
    demo.on('exit', code => reject(new Error(`demo exited (${String(code)}): ${output}`)))
  })
  t.match(output, /curl -sS --fail-with-body -X POST .*\/teleconsultation/, 'the demo prints a request to copy')
  t.match(output, `Waiting room demo:  ${url}/demo/`, 'and where the waiting room is')

  const scenario = spawnSync(process.execPath, ['scripts/scenario.mjs', url], { cwd: root, encoding: 'utf8', timeout: WAIT_TIMEOUT_MS })
  t.equal(scenario.status, 0, scenario.stdout)
  t.match(scenario.stdout, /scenario passed/)
  t.notMatch(scenario.stdout, /FAIL/)

  const exited = new Promise<number | null>(resolve => demo.on('exit', code => resolve(code)))
  demo.kill('SIGTERM')
  t.equal(await exited, 0, 'a clean exit on SIGTERM')
})

t.test('two service processes sharing one CRUD Service and one Kaleyra: 20 concurrent PATCHes leave one live room, the stored one', async t => {
  const emulator = await startEmulator(t)
  const crud = await startCrud(t)
  const replicas = await Promise.all([0, 1].map(async () => {
    const { url } = await startCompiledServer(t, {
      BANDYER_BASE_URL: emulator.url,
      BANDYER_API_SECRET_KEY: emulator.apiKey,
      CRUD_SERVICE_URL: crud.url,
      WAIT_BEFORE_SERVER_CLOSE_SEC: '0',
      ...LONG_DEADLINES
    })
    return url
  }))
  const created = await httpCall(`${replicas[0]}/teleconsultation`, { method: 'POST', json: body({ start: isoFromNow(3_600_000) }) })
  t.equal(created.status, 201)
  const id = JSON.parse(created.body).roomId as string

  const answers = await Promise.all(Array.from({ length: 20 }, async (_, i) => await httpCall(`${replicas[i % 2]}/teleconsultation/${id}`, {
    method: 'PATCH',
    json: { start_date: isoFromNow(7_200_000 + i * 60_000), duration_in_seconds: 1800 + i * 60 }
  })))
  const statuses = answers.map(a => a.status)
  t.ok(statuses.every(s => s === 204 || s === 409), `only 204s or 409s (${statuses.join(',')})`)
  t.ok(statuses.includes(204))
  await waitFor('old rooms to be deleted', () => emulator.liveRooms().length === 1 && (crud.document('teleconsultations', id)?.pendingRoomDeletions as unknown[] | undefined)?.length === 0)
  t.equal(emulator.liveRooms()[0].roomId, crud.document('teleconsultations', id)?.bandyerRoomId, 'the live room is the stored one')
})
