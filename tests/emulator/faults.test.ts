import t from 'tap'
import { request } from 'undici'
import { startKaleyraEmulator } from '../../src/emulator/index.js'
import { waitFor } from '../helpers/wait.js'
import { API_KEY, createRoom, startHarness, type Harness } from './fixtures/harness.js'

/**
 * A raw call that reports network failures instead of throwing. `giveUp`: a number is a client
 * timeout in ms (code TIMEOUT), a signal lets the test give up itself (code ABORTED).
 */
async function attempt (h: Harness, method: 'GET' | 'POST', path: string, body?: unknown, giveUp?: number | AbortSignal): Promise<{ status?: number, json?: unknown, code?: string }> {
  try {
    const res = await request(`${h.emu.url}${path}`, {
      method,
      headers: { apikey: API_KEY, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: typeof giveUp === 'number' ? AbortSignal.timeout(giveUp) : giveUp,
      dispatcher: h.dispatcher
    })
    const text = await res.body.text()
    return { status: res.statusCode, json: text === '' ? undefined : JSON.parse(text) }
  } catch (err) {
    const e = err as { code?: string, name?: string }
    if (e.name === 'TimeoutError') return { code: 'TIMEOUT' }
    if (e.name === 'AbortError') return { code: 'ABORTED' }
    return { code: e.code ?? String(err) }
  }
}

/** Resolves once the emulator has received (logged) `count` API calls. */
async function received (h: Harness, count: number): Promise<void> {
  await waitFor(`the emulator to receive ${count} calls`, () => h.emu.requests().length >= count)
}

const userIds = (h: Harness): string[] => h.emu.users().map(u => u.userId)
const INJECTED = { error: 'internal_error', message: 'injected fault' }

t.test('status: before skips the handler, after runs it', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  h.emu.faults.add({ method: 'POST', path: '/v2/users', kind: 'status', status: 503, times: 1 })
  const before = await attempt(h, 'POST', '/v2/users', { id: 'a', role: 'plus' })
  t.equal(before.status, 503)
  t.same(before.json, INJECTED)
  t.same(userIds(h), [], 'phase before: nothing created')
  t.equal((await attempt(h, 'POST', '/v2/users', { id: 'a', role: 'plus' })).status, 201, 'times: 1 applied once')

  h.emu.faults.add({ method: 'POST', path: '/v2/users', kind: 'status', phase: 'after', times: 1 })
  const after = await attempt(h, 'POST', '/v2/users', { id: 'b', role: 'plus' })
  t.equal(after.status, 500, 'default status is 500')
  t.same(after.json, INJECTED)
  t.same(userIds(h), ['a', 'b'], 'phase after: the user was created anyway')
  t.equal((await attempt(h, 'POST', '/v2/users', { id: 'b', role: 'plus' })).status, 409, 'a retry sees the duplicate')

  t.match(h.emu.requests().map(r => r.status), [503, 201, 500, 409])
})

t.test('status after replaces a streamed answer', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const room = await createRoom(h)
  const session = h.emu.addSession(room.room_id, { transcriptionBytes: 5 * 1024 * 1024 })
  h.emu.faults.add({ path: '/v2/sessions', kind: 'status', status: 502, phase: 'after', times: 1 })
  const res = await attempt(h, 'GET', `/v2/sessions/${session}/transcription`)
  t.equal(res.status, 502)
  t.same(res.json, INJECTED)
  const next = await h.call('GET', `/v2/sessions/${session}/transcription`)
  t.equal(Buffer.byteLength(next.text), 5 * 1024 * 1024, 'the next call streams normally')
})

t.test('reset: the connection is destroyed without an answer', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  await createRoom(h)
  h.emu.faults.add({ method: 'POST', path: '/v2/rooms', kind: 'reset', times: 1 })
  const body = { participants: [{ user_id: 'doc', is_admin: true }, { user_id: 'pat', is_admin: false }], recording: 'none' }
  const before = await attempt(h, 'POST', '/v2/rooms', body)
  t.equal(before.status, undefined, 'no answer')
  t.match(before.code, /UND_ERR_SOCKET|ECONNRESET/)
  t.equal(h.emu.liveRooms().length, 1, 'phase before: no room')

  h.emu.faults.add({ method: 'POST', path: '/v2/rooms', kind: 'reset', phase: 'after', times: 1 })
  const after = await attempt(h, 'POST', '/v2/rooms', body)
  t.match(after.code, /UND_ERR_SOCKET|ECONNRESET/)
  t.equal(h.emu.liveRooms().length, 2, 'phase after: the room exists although the answer was lost')
  t.equal((await attempt(h, 'GET', '/v2/rooms')).status, 200, 'later calls work')
  const statuses = h.emu.requests().filter(r => r.method === 'POST' && r.path === '/v2/rooms').map(r => r.status)
  t.same(statuses, [201, 0, 0], 'no answer is logged as status 0')
})

t.test('hang: no answer until the client gives up', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  h.emu.faults.add({ path: '/v2/users', kind: 'hang', times: 1 })
  const started = Date.now()
  const before = await attempt(h, 'POST', '/v2/users', { id: 'a', role: 'plus' }, 300)
  t.equal(before.code, 'TIMEOUT')
  t.ok(Date.now() - started >= 250, 'the client waited for its own timeout')
  t.same(userIds(h), [], 'phase before: nothing created')

  h.emu.faults.add({ path: '/v2/users', kind: 'hang', phase: 'after', times: 1 })
  // The client gives up only once the call was processed, however long that takes.
  const giveUp = new AbortController()
  const after = attempt(h, 'POST', '/v2/users', { id: 'b', role: 'plus' }, giveUp.signal)
  await waitFor('the call to be processed', () => userIds(h).includes('b'))
  await new Promise(resolve => setTimeout(resolve, 300))
  giveUp.abort()
  t.same(await after, { code: 'ABORTED' }, 'phase after: created, answer never sent')
  t.same(userIds(h), ['b'])
  t.equal((await attempt(h, 'GET', '/v2/users/b')).status, 200)
})

t.test('latency: before delays handling, after delays the answer', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  h.emu.faults.add({ method: 'POST', path: '/v2/users', kind: 'latency', ms: 400, times: 2 })
  let started = Date.now()
  const slow = await attempt(h, 'POST', '/v2/users', { id: 'a', role: 'plus' })
  t.equal(slow.status, 201)
  t.ok(Date.now() - started >= 350, 'answered after the delay')

  // A client that gives up early still causes the side effect later. It gives up as soon as the
  // emulator has its call: by timer order, always before the 400 ms delay is over.
  const giveUp = new AbortController()
  const gaveUp = attempt(h, 'POST', '/v2/users', { id: 'late', role: 'basic' }, giveUp.signal)
  await received(h, 2)
  t.notOk(userIds(h).includes('late'), 'not created yet when the client gives up')
  giveUp.abort()
  t.same(await gaveUp, { code: 'ABORTED' })
  await waitFor('the late user to be created', () => userIds(h).includes('late'))
  t.pass('created once the delay passed')

  h.emu.faults.add({ method: 'POST', kind: 'latency', ms: 500, phase: 'after', times: 1 })
  started = Date.now()
  let answered = false
  const pending = attempt(h, 'POST', '/v2/users', { id: 'c', role: 'basic' }).finally(() => { answered = true })
  // Seen processed by a poll that comes, by timer order, before the 500 ms delay is over.
  await waitFor('the call to be processed', () => userIds(h).includes('c'))
  t.notOk(answered, 'phase after: processed before the delay')
  t.equal((await pending).status, 201)
  t.ok(Date.now() - started >= 450, 'the answer waited')
})

t.test('matching: method, prefix, RegExp, order, times', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  await createRoom(h)
  h.emu.faults.add({ method: 'get', path: '/v2/rooms', kind: 'status', status: 418 })
  t.equal((await attempt(h, 'GET', '/v2/rooms')).status, 418, 'method is case-insensitive')
  t.equal((await attempt(h, 'GET', '/v2/rooms/room_x')).status, 418, 'a string path is a prefix')
  t.equal((await attempt(h, 'GET', '/v2/users')).status, 200, 'other paths are untouched')
  t.equal((await attempt(h, 'POST', '/v2/rooms', {})).status, 422, 'other methods are untouched')
  t.equal((await attempt(h, 'GET', '/v2/rooms')).status, 418, 'no times = unlimited')
  h.emu.faults.clear()
  t.equal((await attempt(h, 'GET', '/v2/rooms')).status, 200, 'clear removes every rule')

  h.emu.faults.add({ path: /^\/v2\/users\/[^/]+$/, kind: 'status', status: 429 })
  t.equal((await attempt(h, 'GET', '/v2/users/doc')).status, 429, 'RegExp match')
  t.equal((await attempt(h, 'GET', '/v2/users')).status, 200, 'RegExp miss')
  h.emu.faults.clear()

  h.emu.faults.add({ path: '/v2/company', kind: 'latency', ms: 200, times: 1 })
  h.emu.faults.add({ path: '/v2/company', kind: 'status', status: 503, times: 1 })
  h.emu.faults.add({ path: '/v2/company', kind: 'status', status: 504, times: 1 })
  const started = Date.now()
  t.equal((await attempt(h, 'GET', '/v2/company')).status, 503, 'the first terminal rule wins')
  t.ok(Date.now() - started >= 150, 'and the latency rule before it applied too')
  t.equal((await attempt(h, 'GET', '/v2/company')).status, 504, 'the second rule was not used up')
  t.equal((await attempt(h, 'GET', '/v2/company')).status, 200)

  h.emu.faults.add({ kind: 'status', status: 500 })
  t.equal((await h.call('GET', '/_emulator/state')).status, 200, 'control routes are never faulted')
  t.equal((await h.call('GET', '/join/whatever')).status, 404, 'pages are never faulted')
  h.emu.reset()
  t.equal((await attempt(h, 'GET', '/v2/company')).status, 200, 'reset clears faults')

  for (const bad of [{ kind: 'explode' }, { kind: 'latency' }, { kind: 'status', status: 99 }, { kind: 'hang', times: 0 }, { kind: 'reset', phase: 'during' }]) {
    t.throws(() => h.emu.faults.add(bad as never), TypeError, `refused: ${JSON.stringify(bad)}`)
  }
})

t.test('close() ends hanging, delayed and streaming requests', async t => {
  const emu = await startKaleyraEmulator({ apiKey: API_KEY })
  const headers = { apikey: API_KEY, 'content-type': 'application/json' }
  await (await request(`${emu.url}/v2/users`, { method: 'POST', headers, body: '{"id":"doc","role":"plus"}' })).body.dump()
  await (await request(`${emu.url}/v2/users`, { method: 'POST', headers, body: '{"id":"pat","role":"basic"}' })).body.dump()
  const room = await request(`${emu.url}/v2/rooms`, {
    method: 'POST', headers, body: JSON.stringify({ participants: [{ user_id: 'doc', is_admin: true }, { user_id: 'pat', is_admin: false }], recording: 'none' })
  })
  const session = emu.addSession(((await room.body.json()) as { room_id: string }).room_id, {
    transcriptionBytes: 1024 * 1024 * 1024
  })
  const streaming = await request(`${emu.url}/v2/sessions/${session}/transcription`, { headers })
  const streamed = (async () => {
    try {
      let received = 0
      for await (const chunk of streaming.body) received += (chunk as Buffer).length
      return `completed after ${received} bytes`
    } catch {
      return 'failed'
    }
  })()

  emu.faults.add({ path: '/v2/users', kind: 'hang' })
  emu.faults.add({ path: '/v2/company', kind: 'latency', ms: 60_000 })
  emu.faults.add({ path: '/v2/sessions', kind: 'latency', ms: 60_000, phase: 'after' })
  const before = emu.requests().length
  const hanging = request(`${emu.url}/v2/users`, { headers }).then(() => 'answered', () => 'failed')
  const delayed = request(`${emu.url}/v2/company`, { headers }).then(() => 'answered', () => 'failed')
  const delayedAnswer = request(`${emu.url}/v2/sessions`, { headers }).then(() => 'answered', () => 'failed')
  await waitFor('the three calls to reach the emulator', () => emu.requests().length >= before + 3)
  const started = Date.now()
  await emu.close()
  t.ok(Date.now() - started < 30_000, `closed in ${Date.now() - started} ms, not after the 60 s delays`)
  t.equal(await hanging, 'failed')
  t.equal(await delayed, 'failed')
  t.equal(await delayedAnswer, 'failed')
  t.equal(await streamed, 'failed', 'the 1 GB stream was cut')
  await emu.close()
  t.pass('close() twice is fine')
})
