import t from 'tap'
import { MockAgent } from 'undici'
import { createKaleyraClient, normalizeKaleyraBaseUrl } from '../../src/kaleyra/client.js'
import { KaleyraFormatError, KaleyraRejectedError } from '../../src/kaleyra/errors.js'
import { UpstreamError } from '../../src/upstream/errors.js'
import { FAULT_TIMEOUT_MS, startEmulator, UPSTREAM_TIMEOUT_MS } from '../helpers/app.js'

const tools = {
  chat: true,
  screen_sharing: true,
  file_upload: true,
  whiteboard: true,
  snapshot: true,
  live_edit: true,
  live_pointer: true,
  present_to_everyone: true
}

t.test('users and rooms over real HTTP', async t => {
  const emulator = await startEmulator(t)
  const client = createKaleyraClient({ baseUrl: `${emulator.url}/v2/`, apiKey: emulator.apiKey, timeoutMs: UPSTREAM_TIMEOUT_MS })
  t.teardown(() => client.close())

  t.same(await client.createUser('doc', 'plus'), { userId: 'doc', created: true })
  t.same(await client.createUser('doc', 'plus'), { userId: 'doc', created: false }, '409 means the user already exists')
  await client.createUser('pat', 'basic')
  t.same(await client.getUser('doc'), { userId: 'doc', role: 'plus', active: true })
  t.equal(await client.getUser('nobody'), null)
  t.equal(await client.updateUser('pat', { role: 'plus' }), true)
  t.same(await client.getUser('pat'), { userId: 'pat', role: 'plus', active: true }, 'the role was changed')
  t.equal(await client.updateUser('nobody', { role: 'plus' }), false, 'an unknown user')
  await client.updateUser('pat', { role: 'basic' })

  const room = await client.createRoom({ participants: [{ user_id: 'doc', is_admin: true, tools }, { user_id: 'pat', is_admin: false, tools }], recording: 'none', live: true })
  t.equal(room.links.length, 2)
  t.match(room.links[0].link, /^http:\/\/127\.0\.0\.1:\d+\/join\//)
  const fetched = await client.getRoom(room.roomId)
  t.equal(fetched?.roomId, room.roomId)
  t.equal(fetched?.recordingStatus, 'stopped')
  t.equal(await client.deleteRoom(room.roomId), 'deleted')
  t.equal(await client.deleteRoom(room.roomId), 'absent', 'deleting twice is not an error')
  t.equal(await client.getRoom(room.roomId), null)
  t.ok(emulator.requests().length > 0)
})

t.test('Kaleyra refusing a request is a rejected error carrying only the error name', async t => {
  const emulator = await startEmulator(t)
  const client = createKaleyraClient({ baseUrl: emulator.url, apiKey: emulator.apiKey, timeoutMs: UPSTREAM_TIMEOUT_MS })
  t.teardown(() => client.close())
  await client.createUser('a', 'basic')
  await client.createUser('b', 'basic')
  const err = await client.createRoom({ participants: [{ user_id: 'a', is_admin: false }, { user_id: 'b', is_admin: false }], recording: 'none' }).catch(e => e)
  t.ok(err instanceof KaleyraRejectedError)
  t.equal(err.upstreamStatus, 422)
  t.equal(err.errorName, 'validation_error')
})

t.test('a wrong API key is a rejected 401, and the key is not in the error', async t => {
  const emulator = await startEmulator(t)
  const client = createKaleyraClient({ baseUrl: emulator.url, apiKey: 'ak_wrong_key', timeoutMs: UPSTREAM_TIMEOUT_MS })
  t.teardown(() => client.close())
  const err = await client.getUser('x').catch(e => e)
  t.ok(err instanceof KaleyraRejectedError)
  t.equal(err.upstreamStatus, 401)
  t.notOk(JSON.stringify(err).includes('ak_wrong_key'))
  t.notOk(String(err.stack).includes('ak_wrong_key'))
})

t.test('idempotent reads are retried, room creation never is', async t => {
  const emulator = await startEmulator(t)
  const client = createKaleyraClient({
    baseUrl: emulator.url,
    apiKey: emulator.apiKey,
    timeoutMs: UPSTREAM_TIMEOUT_MS,
    retryDelayMs: 1
  })
  t.teardown(() => client.close())
  emulator.faults.add({ method: 'GET', path: '/v2/users', kind: 'status', status: 503, times: 2 })
  t.same(await client.getUser('nobody'), null, 'two 503 then an answer')
  t.equal(emulator.requests().filter(r => r.path === '/v2/users/nobody').length, 3)

  await client.createUser('a', 'plus')
  await client.createUser('b', 'basic')
  emulator.faults.add({ method: 'POST', path: '/v2/rooms', kind: 'status', status: 503, times: 1 })
  const err = await client.createRoom({ participants: [{ user_id: 'a', is_admin: true }, { user_id: 'b', is_admin: false }], recording: 'none' }).catch(e => e)
  t.ok(err instanceof UpstreamError)
  t.equal(err.ambiguous, true, 'a 5xx on a write may have been applied')
  t.equal(emulator.requests().filter(r => r.method === 'POST' && r.path === '/v2/rooms').length, 1)
})

t.test('timeouts and resets are typed upstream errors', async t => {
  const emulator = await startEmulator(t)
  // Only the hanging call gets a short deadline: a reset must not be mistaken for a timeout on a slow machine.
  const impatient = createKaleyraClient({
    baseUrl: emulator.url,
    apiKey: emulator.apiKey,
    timeoutMs: FAULT_TIMEOUT_MS,
    retries: 0
  })
  const client = createKaleyraClient({
    baseUrl: emulator.url,
    apiKey: emulator.apiKey,
    timeoutMs: UPSTREAM_TIMEOUT_MS,
    retries: 0
  })
  t.teardown(async () => {
    await Promise.all([impatient.close(), client.close()])
  })
  emulator.faults.add({ method: 'GET', kind: 'hang', times: 1 })
  const timeout = await impatient.getRoom('r').catch(e => e)
  t.match(timeout, { name: 'UpstreamError', failure: 'timeout', target: 'kaleyra', operation: 'getRoom' })
  emulator.faults.add({ method: 'GET', kind: 'reset', times: 1 })
  const reset = await client.getRoom('r').catch(e => e)
  t.match(reset, { name: 'UpstreamError', failure: 'network' })
})

/** A client whose calls reach an undici MockAgent for https://api.example.bandyer.com. */
function mockedKaleyra (t: { teardown: (fn: () => unknown) => void }) {
  const agent = new MockAgent()
  agent.disableNetConnect()
  t.teardown(() => agent.close())
  const origin = agent.get('https://api.example.bandyer.com')
  const client = createKaleyraClient({ baseUrl: 'https://api.example.bandyer.com/v2', apiKey: 'k', timeoutMs: UPSTREAM_TIMEOUT_MS, dispatcher: agent })
  return { agent, origin, client }
}

t.test('older documented shapes are understood; anything else is a format error', async t => {
  const { agent, origin, client } = mockedKaleyra(t)

  origin.intercept({ path: '/v2/rooms', method: 'POST', headers: { apikey: 'k' } })
    .reply(200, { room: { room_id: 'room_v1', user_urls: [{ user: 'a', url: 'https://sandbox.bandyer.com/eu/direct-rest-call-handler/x' }] } })
  const v1 = await client.createRoom({ participants: [], recording: 'none' })
  t.same(v1.links, [{ userId: 'a', link: 'https://sandbox.bandyer.com/eu/direct-rest-call-handler/x' }])
  t.equal(v1.roomId, 'room_v1')

  origin.intercept({ path: '/v2/rooms', method: 'POST' }).reply(201, { id: 'room_id_form', participants: [{ user_id: 'a', link: 'https://l/1' }] })
  t.equal((await client.createRoom({ participants: [], recording: 'none' })).roomId, 'room_id_form')

  origin.intercept({ path: '/v2/users', method: 'POST' }).reply(201, { id: 'u1' })
  t.same(await client.createUser('u1', 'basic'), { userId: 'u1', created: true })

  origin.intercept({ path: '/v2/rooms', method: 'POST' }).reply(201, '<html>gateway</html>', { headers: { 'content-type': 'text/html' } })
  const garbage = await client.createRoom({ participants: [], recording: 'none' }).catch(e => e)
  t.ok(garbage instanceof KaleyraFormatError)
  t.notOk(garbage.message.includes('gateway'), 'the upstream body is never in the message')

  origin.intercept({ path: '/v2/rooms/r1', method: 'GET' }).reply(200, { room_id: 42 })
  t.ok((await client.getRoom('r1').catch(e => e)) instanceof KaleyraFormatError)
  agent.assertNoPendingInterceptors()
})

t.test('a default background given by alias only is completed from the background list', async t => {
  const { agent, origin, client } = mockedKaleyra(t)
  const company = { name: 'Acme', default_language: 'it', default_background: 'bg1', end_call_redirect_url: '', user_details_provider_url: '', end_call_redirect_timeout_ms: 5000 }
  const listed = { background_alias: 'bg1', url: 'https://cdn.example/bg1.jpg', creation_date: '2030-01-01T00:00:00.000Z' }

  origin.intercept({ path: '/v2/company', method: 'PUT', body: JSON.stringify({ background_alias: 'bg1' }) }).reply(200, { company })
  origin.intercept({ path: '/v2/company/virtual-backgrounds', method: 'GET' }).reply(200, [listed])
  const updated = await client.updateCompany('bg1')
  t.same(updated.defaultBackground, { alias: 'bg1', url: 'https://cdn.example/bg1.jpg', creationDate: '2030-01-01T00:00:00.000Z' })
  t.equal(updated.name, 'Acme')

  origin.intercept({ path: '/v2/company', method: 'PUT' }).reply(200, company)
  origin.intercept({ path: '/v2/company/virtual-backgrounds', method: 'GET' }).reply(200, { virtual_backgrounds: [] })
  t.same((await client.updateCompany('bg1')).defaultBackground, { alias: 'bg1', url: null, creationDate: null }, 'an alias missing from the list stays an alias')

  origin.intercept({ path: '/v2/company/virtual-backgrounds', method: 'GET' }).reply(200, { virtual_backgrounds: [{ url: 'x' }] })
  t.ok((await client.listVirtualBackgrounds().catch(e => e)) instanceof KaleyraFormatError)
  agent.assertNoPendingInterceptors()
})

t.test('base URLs with or without /v2', async t => {
  t.equal(normalizeKaleyraBaseUrl('https://api.eu.bandyer.com'), 'https://api.eu.bandyer.com')
  t.equal(normalizeKaleyraBaseUrl('https://api.eu.bandyer.com/'), 'https://api.eu.bandyer.com')
  t.equal(normalizeKaleyraBaseUrl('https://api.eu.bandyer.com/v2'), 'https://api.eu.bandyer.com')
  t.equal(normalizeKaleyraBaseUrl('https://api.eu.bandyer.com/v2/'), 'https://api.eu.bandyer.com')
})
