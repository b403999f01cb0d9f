import t from 'tap'
import { connect, type Socket } from 'node:net'
import { startEmulator, UPSTREAM_TIMEOUT_MS } from '../helpers/app.js'
import { body } from '../helpers/fixtures.js'
import { httpCall, startCompiledServer } from '../helpers/process.js'
import { waitFor } from '../helpers/wait.js'

// The compiled server (`npm test` builds first) with clients that stall part-way through a request.
async function serve (t: Parameters<typeof startEmulator>[0], env: Record<string, string>) {
  const emulator = await startEmulator(t)
  const { proc, url: listening } = await startCompiledServer(t, {
    BANDYER_BASE_URL: emulator.url,
    BANDYER_API_SECRET_KEY: emulator.apiKey,
    KALEYRA_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
    ...env
  })
  const url = new URL(listening)
  return { emulator, proc, url: url.toString().replace(/\/$/, ''), port: Number(url.port) }
}

/** A connection that sends `text` and then nothing; resolves when the server closes it. */
function stall (t: { teardown: (fn: () => unknown) => void }, port: number, text: string, encoding: BufferEncoding = 'utf8'): { socket: Socket, closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1', () => { socket.write(text, encoding) })
  socket.on('error', () => {})
  socket.on('data', () => {})
  const closed = new Promise<void>(resolve => socket.once('close', () => resolve()))
  t.teardown(() => socket.destroy())
  return { socket, closed }
}

const PARTIAL_BODY = 'POST /teleconsultation HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"part'
const PARTIAL_HEADERS = 'GET /-/healthz HTTP/1.1\r\nhost: 127.0'

t.test('a request body that stops arriving has its connection closed after HTTP_REQUEST_TIMEOUT_MS; partial headers after HTTP_HEADERS_TIMEOUT_MS', async t => {
  const { url, port } = await serve(t, { HTTP_REQUEST_TIMEOUT_MS: '500', HTTP_HEADERS_TIMEOUT_MS: '500', WAIT_BEFORE_SERVER_CLOSE_SEC: '0' })
  const partialBody = stall(t, port, PARTIAL_BODY)
  const partialHeaders = stall(t, port, PARTIAL_HEADERS)
  await Promise.all([partialBody.closed, partialHeaders.closed])
  t.pass('both stalled connections were closed by the server')
  t.equal((await httpCall(`${url}/-/healthz`)).status, 200, 'the server goes on serving')
})

t.test('SIGTERM with stalled clients attached: exit 0; a request in progress still completes', async t => {
  const { emulator, proc, url, port } = await serve(t, { WAIT_BEFORE_SERVER_CLOSE_SEC: '1' })
  const stalled = [stall(t, port, PARTIAL_BODY), stall(t, port, PARTIAL_HEADERS)]
  // A request in progress: Kaleyra takes 1.5 s to create the room (well within the shutdown drain).
  emulator.faults.add({ method: 'POST', path: '/v2/rooms', kind: 'latency', ms: 1_500 })
  const inProgress = httpCall(`${url}/teleconsultation`, { method: 'POST', json: body() })
  await waitFor('the request to reach Kaleyra', () => emulator.requests().some(r => r.method === 'POST' && r.path === '/v2/rooms'))
  proc.child.kill('SIGTERM')
  const answered = await inProgress
  t.equal(answered.status, 201, 'the request in progress is answered')
  const exit = await proc.exited
  t.same(exit, { code: 0, signal: null }, 'a clean exit')
  await Promise.all(stalled.map(async s => { await s.closed }))
  t.notOk(proc.logs().some(l => l.msg === 'shutdown failed'), 'no forced exit')
})

t.test('SIGTERM with a request that never ends (Kaleyra hangs) and an upload trickling in: still exit 0, after the drain', async t => {
  const { emulator, proc, url, port } = await serve(t, { WAIT_BEFORE_SERVER_CLOSE_SEC: '1' })
  emulator.faults.add({ method: 'POST', path: '/v2/rooms', kind: 'hang' })
  const hanging = httpCall(`${url}/teleconsultation`, { method: 'POST', json: body() }).then(() => 'answered', () => 'connection closed')
  // An upload that keeps progressing (a byte every 200 ms: never stalled, never finished).
  const boundary = 'trickle'
  const head = `POST /settings/background-image HTTP/1.1\r\nhost: 127.0.0.1\r\nmiauserid: admin-1\r\ncontent-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: 1000000\r\n\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="virtual_background"; filename="b.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`
  const trickle = stall(t, port, head + '\xff\xd8\xff\xe0', 'latin1')
  const dripping = setInterval(() => { trickle.socket.write(Buffer.from([0])) }, 200)
  t.teardown(() => clearInterval(dripping))
  await waitFor('the room creation to reach Kaleyra', () => emulator.requests().some(r => r.path === '/v2/rooms'))
  await waitFor('the upload to reach Kaleyra', () => emulator.requests().some(r => r.path === '/v2/company/virtual-background'))

  proc.child.kill('SIGTERM')
  const exit = await proc.exited
  t.same(exit, { code: 0, signal: null }, 'a clean exit, not the forced one')
  t.equal(await hanging, 'connection closed', 'the request that could not end had its connection closed')
  await trickle.closed
  t.ok(proc.logs().some(l => l.msg === 'requests still in progress at the end of the shutdown drain: their connections are closed'), 'the cut is logged')
  t.notOk(proc.logs().some(l => l.msg === 'shutdown failed'), 'no forced exit')
})
