// ENABLE_TRACING=true (lc39's --enable-tracing): the compiled server exports OTLP/HTTP spans to a
// receiver on 127.0.0.1, one trace per request with its upstream calls as children, and nothing
// secret or personal in them. Off, no OpenTelemetry SDK module is loaded (prom-client's no-op API only).
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { redactAttributes } from '../../src/platform/tracing.js'
import { readPackage } from '../../src/lib/package-info.js'
import { startEmulator, UPSTREAM_TIMEOUT_MS } from '../helpers/app.js'
import { startCrud } from '../helpers/crud.js'
import { HOUR, isoFromNow } from '../helpers/fixtures.js'
import { startOtlpReceiver, SPAN_KIND } from '../helpers/otlp-receiver.js'
import { httpCall, startCompiledServer, type RunningProcess } from '../helpers/process.js'
import { startFakeIdentity } from '../identity/fixtures/fake-identity.js'

/** Preloaded into the server: at exit, writes the files in the module cache to LOADED_MODULES_FILE. */
const reportLoaded = fileURLToPath(new URL('./fixtures/report-loaded-modules.cjs', import.meta.url))
const LONG_DEADLINES = {
  KALEYRA_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
  CRUD_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
  IDENTITY_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS)
}
const OTEL_PACKAGES = '/node_modules/@opentelemetry/'
/** The no-op API that prom-client loads for its exemplars whatever ENABLE_TRACING says. */
const OTEL_API = `${OTEL_PACKAGES}api/`

interface Teardown { teardown: (fn: () => unknown) => void }

async function startServer (
  t: Teardown,
  env: Record<string, string>,
  nodeArgs: string[] = []
): Promise<{ server: RunningProcess, url: string }> {
  const { proc, url } = await startCompiledServer(t, { WAIT_BEFORE_SERVER_CLOSE_SEC: '0', ...LONG_DEADLINES, ...env }, nodeArgs)
  return { server: proc, url }
}

interface Asserts { same: (found: unknown, wanted: unknown, message: string) => unknown }

async function stop (t: Asserts, server: RunningProcess): Promise<void> {
  server.child.kill('SIGTERM')
  t.same(await server.exited, { code: 0, signal: null }, 'SIGTERM ends the process with code 0')
}

t.test('a POST /teleconsultation is one trace: the request, then its CRUD, identity and Kaleyra calls as children, nothing secret or personal', async t => {
  const receiver = await startOtlpReceiver(t)
  const emulator = await startEmulator(t)
  const crud = await startCrud(t)
  const identity = await startFakeIdentity()
  t.teardown(() => identity.close())
  identity.users.set('doctor-1', { user_id: 'doctor-1', name: 'Dr. Joe Smith', groups: ['doctor'] })
  identity.users.set('patient-1', { user_id: 'patient-1', name: 'Jane Doe', groups: ['patient'] })
  const { server, url } = await startServer(t, {
    ENABLE_TRACING: 'true',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    // No export before the end: the spans reach the receiver through the flush at SIGTERM.
    OTEL_BSP_SCHEDULE_DELAY: '600000',
    BANDYER_BASE_URL: emulator.url,
    BANDYER_API_SECRET_KEY: emulator.apiKey,
    CRUD_SERVICE_URL: crud.url,
    AUTH_SERVICE: identity.host
  })

  t.equal((await httpCall(`${url}/-/ready`)).status, 200, 'a probe (not traced)')
  const callerTrace = randomBytes(16).toString('hex')
  const callerSpan = randomBytes(8).toString('hex')
  const headers = {
    'x-request-id': 'trace-req-1',
    miauserid: 'doctor-1',
    miausergroups: 'doctor',
    cookie: 'sid=trace-cookie-secret',
    authorization: 'Bearer trace-token-secret',
    'user-agent': 'Browser of Jane Doe',
    // The caller's trace (e.g. the API gateway's) is continued.
    traceparent: `00-${callerTrace}-${callerSpan}-01`,
    baggage: 'patient=Jane%20Doe'
  }
  const created = await httpCall(`${url}/teleconsultation`, {
    method: 'POST',
    headers,
    json: { participants: ['doctor-1', 'patient-1'], start_date: isoFromNow(2 * HOUR), duration_in_seconds: 3600 }
  })
  t.equal(created.status, 201)
  t.equal((await httpCall(`${url}/documentation/json`)).status, 200, 'the documentation (not traced)')
  t.same(receiver.spans, [], 'nothing exported before the shutdown')
  await stop(t, server)

  t.ok(receiver.requests.length > 0, 'the spans were exported at shutdown')
  t.ok(receiver.requests.every(r => r.path === '/v1/traces' && r.contentType.startsWith('application/json')), 'OTLP/HTTP JSON on /v1/traces of OTEL_EXPORTER_OTLP_ENDPOINT')
  const spans = receiver.spans
  const incoming = spans.filter(s => s.kind === SPAN_KIND.SERVER)
  t.equal(incoming.length, 1, `one incoming request traced (${spans.map(s => s.name).join(', ')})`)
  const request = incoming[0]
  t.match(request, {
    name: 'POST /teleconsultation',
    traceId: callerTrace,
    parentSpanId: callerSpan,
    attributes: { 'http.request.method': 'POST', 'http.route': '/teleconsultation', 'url.path': '/teleconsultation', 'http.response.status_code': 201 },
    resource: { 'service.name': readPackage().name, 'service.version': readPackage().version }
  })
  t.ok(spans.every(s => s.traceId === request.traceId), 'every span is in the request\'s trace (the probe made none)')

  const upstream = spans.filter(s => s.kind === SPAN_KIND.CLIENT)
  t.ok(upstream.every(s => s.parentSpanId === request.spanId), 'every upstream call is a child of the request')
  const port = (base: string) => Number(new URL(base).port)
  const callsTo = (base: string) => upstream.filter(s => s.attributes['server.port'] === port(base))
  for (const [what, base] of [['CRUD', crud.url], ['identity', identity.url], ['Kaleyra', emulator.url]]) {
    t.ok(callsTo(base).length > 0, `${what} calls are spans of the trace`)
  }
  t.equal(callsTo(crud.url).length + callsTo(identity.url).length + callsTo(emulator.url).length, upstream.length, 'no other span')
  t.ok(callsTo(emulator.url).every(s => typeof s.attributes['http.response.status_code'] === 'number'), 'the Kaleyra spans carry the answer\'s status')

  const crudCalls = crud.requests().filter(c => c.headers['x-request-id'] === 'trace-req-1')
  t.ok(crudCalls.length > 0 && crudCalls.every(c => String(c.headers.traceparent).split('-')[1] === request.traceId), 'the CRUD Service gets the trace context (W3C traceparent)')
  t.ok(crud.requests().filter(c => c.headers['x-request-id'] !== 'trace-req-1').every(c => c.headers.traceparent === undefined), 'the probe\'s checks carry none')
  t.ok(crud.requests().every(c => c.headers.baggage === undefined), 'the caller\'s baggage is not passed on')

  const exported = receiver.bodies.join('\n')
  for (const secret of [emulator.apiKey, 'trace-cookie-secret', 'trace-token-secret', 'Dr. Joe Smith', 'Jane Doe', 'sid=', 'Bearer']) {
    t.notOk(exported.includes(secret), `"${secret}" is in no exported span`)
  }
  const keys = new Set(spans.flatMap(s => Object.keys(s.attributes)))
  t.same([...keys].filter(k => /header|user_agent|client\.address|cookie|authorization/.test(k)), [], 'no header, user agent or client address attribute')
})

t.test('tracing off (the default): no OpenTelemetry SDK module is loaded; on, they are, and an unreachable collector does not fail the shutdown', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'tracing-loaded-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // A port where nothing listens any more.
  const gone = await startOtlpReceiver(t)
  await gone.close()
  type Loaded = { files: string[], logs: Array<Record<string, unknown>> }
  const loaded = async (env: Record<string, string>, file: string): Promise<Loaded> => {
    const { server, url } = await startServer(t, { KALEYRA_EMULATOR: 'true', LOADED_MODULES_FILE: join(dir, file), ...env }, ['--require', reportLoaded])
    t.equal((await httpCall(`${url}/teleconsultation/000000000000000000000000`, { headers: { miauserid: 'doctor-1' } })).status, 404, 'serves a request')
    await stop(t, server)
    return { files: JSON.parse(readFileSync(join(dir, file), 'utf8')) as string[], logs: server.logs() }
  }
  const off = await loaded({}, 'off.json')
  t.ok(off.files.some(f => f.includes('/node_modules/fastify/')), 'the report sees the modules loaded through imports (fastify)')
  t.same(off.files.filter(f => f.includes(OTEL_PACKAGES) && !f.includes(OTEL_API)), [], 'off: no OpenTelemetry SDK, exporter or instrumentation module loaded')
  const on = await loaded({ ENABLE_TRACING: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: gone.url }, 'on.json')
  t.ok(on.files.some(f => f.includes(`${OTEL_PACKAGES}sdk-trace-node/`)), 'on: the SDK is loaded')
  t.match(on.logs.filter(r => r.msg === 'traces not exported at shutdown'), [{ level: 40, reason: /ECONNREFUSED|did not take the spans within/ }], 'on, with the collector unreachable: a warning at shutdown, exit code 0 all the same')
})

t.test('only the listed attributes are exported, URLs without credentials or query values', async t => {
  const attributes: Record<string, unknown> = {
    'http.request.method': 'GET',
    'url.full': 'https://user:pass@crud/teleconsultations/?_q=%7B%22name%22%3A%22Jane%22%7D&_l=1',
    'url.query': '?fullName=Jane%20Doe',
    'url.path': '/teleconsultations/',
    'http.request.header.cookie': ['sid=1'],
    'user_agent.original': 'Jane\'s browser',
    'client.address': '10.0.0.7',
    'network.peer.address': '10.0.0.8'
  }
  const server = { ...attributes }
  redactAttributes(attributes, true)
  t.same(attributes, {
    'http.request.method': 'GET',
    'url.full': 'https://REDACTED@crud/teleconsultations/?_q=REDACTED&_l=REDACTED',
    'url.query': '?fullName=REDACTED',
    'url.path': '/teleconsultations/',
    'network.peer.address': '10.0.0.8'
  })
  redactAttributes(server, false)
  t.notOk('network.peer.address' in server, 'the caller\'s address is not kept on the incoming request')
})
