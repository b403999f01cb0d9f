// Kaleyra's 429s: retried after their Retry-After within the call's deadline, or passed on as
// 503 with Retry-After; and Kaleyra's error name, wherever its answer puts it.
import t from 'tap'
import { MockAgent } from 'undici'
import { createKaleyraClient } from '../../src/kaleyra/client.js'
import { KaleyraRejectedError } from '../../src/kaleyra/errors.js'
import { retryAfterMs } from '../../src/upstream/http.js'
import { setup, UPSTREAM_TIMEOUT_MS } from '../helpers/app.js'
import { as, body } from '../helpers/fixtures.js'

t.test('Retry-After: delta-seconds or an HTTP date', async t => {
  const now = Date.parse('2030-01-01T00:00:00Z')
  t.equal(retryAfterMs('1', now), 1000)
  t.equal(retryAfterMs(' 0 ', now), 0)
  t.equal(retryAfterMs('Tue, 01 Jan 2030 00:00:05 GMT', now), 5000)
  t.equal(retryAfterMs('Mon, 31 Dec 2029 23:59:00 GMT', now), 0, 'a date already past: now')
  t.equal(retryAfterMs(['3', '9'], now), 3000)
  for (const unreadable of [undefined, '', 'soon', '-1', '1.5']) t.equal(retryAfterMs(unreadable, now), null, `unreadable: ${String(unreadable)}`)
})

t.test('a 429 with Retry-After: 1 on GET /v2/rooms/{id} is retried after about a second; the caller gets 200 with the details', async t => {
  const { app, emulator } = await setup(t)
  const id: string = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })).json().roomId
  emulator.faults.add({ method: 'GET', path: '/v2/rooms/', kind: 'status', status: 429, retryAfter: 1, times: 1 })
  const started = Date.now()
  const res = await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('doctor-1') })
  const waited = Date.now() - started
  t.equal(res.statusCode, 200)
  t.match(res.json().details, { status: 'NOT_RUNNING' }, 'the details came from the retry')
  t.same(emulator.requests().filter(r => r.method === 'GET' && r.path.startsWith('/v2/rooms/')).map(r => r.status), [429, 200])
  t.ok(waited >= 950, `the retry waited for the Retry-After (${waited} ms; the usual backoff here is 5 ms)`)
})

t.test('a 429 on room creation (never retried) answers 503 with Retry-After; nothing is created or left behind', async t => {
  const { app, services, emulator } = await setup(t)
  emulator.faults.add({ method: 'POST', path: '/v2/rooms', kind: 'status', status: 429, retryAfter: 7, times: 1 })
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '7')
  t.same(res.json(), { error: 'Kaleyra service unavailable' })
  t.equal(emulator.requests().filter(r => r.method === 'POST' && r.path === '/v2/rooms').length, 1, 'not retried')
  await services.reaper.idle()
  t.equal(emulator.liveRooms().length, 0)
  t.equal(emulator.requests().filter(r => r.path === '/v2/rooms' && r.method === 'GET').length, 0, 'a 429 is not an unknown outcome: no lost-room search')

  const date = new Date(Date.now() + 30_000).toUTCString()
  emulator.faults.add({ method: 'POST', path: '/v2/rooms', kind: 'status', status: 429, retryAfter: date, times: 1 })
  const dated = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  t.equal(dated.statusCode, 503)
  const seconds = Number(dated.headers['retry-after'])
  t.ok(seconds >= 1 && seconds <= 30, `an HTTP date is passed on in seconds (${seconds})`)

  const again = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  t.equal(again.statusCode, 201, 'once Kaleyra accepts again')
})

t.test('a Retry-After past the call\'s deadline is not waited for: 503 at once, with it', async t => {
  const { app, emulator } = await setup(t)
  const id: string = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })).json().roomId
  emulator.faults.add({ method: 'DELETE', path: '/v2/rooms/', kind: 'status', status: 429, retryAfter: 120, times: 1 })
  const res = await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}` })
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '120')
  t.equal(emulator.requests().filter(r => r.method === 'DELETE').length, 1, 'not retried within a 30 s deadline')
  t.equal(emulator.liveRooms().length, 1, 'nothing deleted')
  // The deletion began (the record is marked DELETING): it reads as missing until a retry or the sweep finishes it.
  t.equal((await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('doctor-1') })).statusCode, 404, 'a deletion under way reads as missing')
  t.equal((await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}` })).statusCode, 204, 'a retry finishes it')
  t.equal(emulator.liveRooms().length, 0)
})

t.test('a 429 without Retry-After is retried with the usual backoff', async t => {
  const { app, emulator } = await setup(t)
  emulator.faults.add({ method: 'POST', path: '/v2/users', kind: 'status', status: 429, times: 1 })
  t.equal((await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })).statusCode, 201)
  t.same(emulator.requests().filter(r => r.method === 'POST' && r.path === '/v2/users').map(r => r.status).slice(0, 2), [429, 201])
})

t.test('OpenAPI documents the 503 of the routes that call Kaleyra', async t => {
  const { app } = await setup(t)
  const spec = (await app.inject({ method: 'GET', url: '/documentation/json' })).json()
  const routes: Array<[string, string]> = [
    ['/teleconsultation', 'post'], ['/teleconsultation/{id}', 'patch'], ['/teleconsultation/{id}', 'delete'],
    ['/teleconsultation/{id}/participants/data', 'post'], ['/teleconsultation/{id}/uploads', 'delete'], ['/credentials', 'post'],
    ['/settings/background-image', 'post'], ['/settings/update', 'patch'], ['/transcription/{roomId}/{sessionId}', 'get']
  ]
  for (const [path, method] of routes) {
    const documented = spec.paths[path][method].responses['503']
    t.match(documented?.content?.['application/json']?.example, { error: 'Kaleyra service unavailable' }, `${method.toUpperCase()} ${path}`)
  }
})

t.test('Kaleyra\'s error name is read from error, name or code (strings only)', async t => {
  const agent = new MockAgent()
  agent.disableNetConnect()
  t.teardown(() => agent.close())
  const origin = agent.get('https://api.example.bandyer.com')
  const client = createKaleyraClient({ baseUrl: 'https://api.example.bandyer.com', apiKey: 'k', timeoutMs: UPSTREAM_TIMEOUT_MS, dispatcher: agent, retries: 0 })
  const answers: Array<[unknown, string | undefined]> = [
    [{ error: 'validation_error', message: 'free text' }, 'validation_error'],
    [{ name: 'ValidationError' }, 'ValidationError'],
    [{ code: 'invalid_room' }, 'invalid_room'],
    [{ error: { code: 'nested' }, code: 'flat' }, 'flat'],
    [{ error: 7 }, undefined],
    ['<html>', undefined]
  ]
  for (const [answer, name] of answers) {
    origin.intercept({ path: '/v2/rooms', method: 'POST' }).reply(422, answer as object)
    const err = await client.createRoom({ participants: [], recording: 'none' }).catch((e: unknown) => e)
    t.ok(err instanceof KaleyraRejectedError)
    t.equal((err as KaleyraRejectedError).errorName, name, JSON.stringify(answer))
    t.notOk(JSON.stringify(err).includes('free text'), 'never the message')
  }
})
