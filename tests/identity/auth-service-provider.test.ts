import t from 'tap'
import type { AppOverrides } from '../../src/app.js'
import { authServiceBaseUrl, USER_CACHE_TTL_MS } from '../../src/identity/auth-service-provider.js'
import { parseIdentityUser, readCustomIdTargets } from '../../src/identity/identity-user.js'
import { kaleyraUserIdFor } from '../helpers/kaleyra-ids.js'
import { eachStore, FAULT_TIMEOUT_MS, setup, type StoreKind, type Tap } from '../helpers/app.js'
import { as, isoFromNow } from '../helpers/fixtures.js'
import { startFakeIdentity, type FakeIdentity } from './fixtures/fake-identity.js'

async function providerSetup (t: Tap, env: Record<string, string> = {}, store: StoreKind = 'memory', overrides: Partial<AppOverrides> = {}) {
  const identity = await startFakeIdentity()
  t.teardown(() => identity.close())
  identity.users.set('doctor-1', { user_id: 'doctor-1', name: 'Dr. Joe Smith', groups: ['doctor'] })
  identity.users.set('patient-1', { sub: 'patient-1', given_name: 'Jane', family_name: 'Doe', app_metadata: { groups: ['patient'] } })
  const ctx = await setup(t, { store, env: { AUTH_SERVICE: identity.host, ...env }, overrides })
  return { ...ctx, identity }
}

const schedule = () => ({ start_date: isoFromNow(-60_000), duration_in_seconds: 3600 })
const userCalls = (identity: FakeIdentity, id: string): number => identity.requests.filter(r => r.path === `/users/${encodeURIComponent(id)}`).length

eachStore(t, 'participants as plain ids: groups and names come from the identity service and are stored', async (t, store) => {
  const { app, emulator, stores, identity } = await providerSetup(t, {}, store)
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', headers: { cookie: 'sid=1' }, payload: { participants: ['doctor-1', 'patient-1'], ...schedule() } })
  t.equal(res.statusCode, 201)
  const id = res.json().roomId
  t.match(emulator.users(), [{ userId: kaleyraUserIdFor('doctor-1'), role: 'plus' }, { userId: kaleyraUserIdFor('patient-1'), role: 'basic' }])
  t.equal(emulator.liveRooms().length, 1)
  const record = await stores.teleconsultations.get(id)
  t.match(record?.participants, [
    { userId: 'doctor-1', fullName: 'Dr. Joe Smith', groups: ['doctor'] },
    { userId: 'patient-1', fullName: 'Jane Doe', groups: ['patient'] }
  ])
  // The CRUD map keeps the original collection's fields only (no role).
  t.match(await stores.userMap.find('patient-1'), { fullName: 'Jane Doe', groups: ['patient'], ...(store === 'memory' ? { role: 'basic' } : {}) })

  const asked = identity.requests.length
  const view = await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('patient-1') })
  t.equal(view.statusCode, 200)
  t.same(view.json().participantsBandyerCall.map((p: { fullName: string }) => p.fullName), ['Dr. Joe Smith', 'Jane Doe'])
  t.equal(identity.requests.length, asked, 'reading a teleconsultation never asks the identity service')
})

t.test('the object form works too; the request fills in what the identity service does not know', async t => {
  const { app, stores, identity } = await providerSetup(t)
  identity.users.set('nurse-1', { id: 'nurse-1', groups: [] })
  const res = await app.inject({
    method: 'POST',
    url: '/teleconsultation',
    payload: { participants: { number: 3, data: [{ userId: 'doctor-1', language: 'it' }, { userId: 'nurse-1', groups: ['patient'], fullName: 'N. Urse' }] }, ...schedule() }
  })
  t.equal(res.statusCode, 201)
  const record = await stores.teleconsultations.get(res.json().roomId)
  t.match(record?.participants, [
    { userId: 'doctor-1', groups: ['doctor'], fullName: 'Dr. Joe Smith', language: 'it' },
    { userId: 'nurse-1', groups: ['patient'], fullName: 'N. Urse' }
  ])
  t.equal(record?.bandyerRoomId, null, 'one participant still unknown')
})

eachStore(t, 'PATCH and the legacy participants route take plain ids too', async (t, store) => {
  const { app, emulator, stores, identity } = await providerSetup(t, {}, store)
  identity.users.set('patient-2', { id: 'patient-2', name: 'Sam Two', groups: ['patient'] })
  const created = await app.inject({ method: 'POST', url: '/teleconsultation', payload: { participants: { number: 3, data: [{ userId: 'doctor-1' }] }, start_date: isoFromNow(3_600_000), duration_in_seconds: 3600 } })
  const id = created.json().roomId
  const added = await app.inject({ method: 'POST', url: `/teleconsultation/${id}/participants/data`, payload: { userExternalId: 'patient-1' } })
  t.equal(added.statusCode, 201)
  t.equal(emulator.liveRooms().length, 0, 'still one participant to come')
  const patched = await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { participants: ['doctor-1', 'patient-1', 'patient-2'] } })
  t.equal(patched.statusCode, 204)
  t.equal(emulator.liveRooms()[0]?.participants.length, 3)
  t.same((await stores.teleconsultations.get(id))?.participants.map(p => p.fullName), ['Dr. Joe Smith', 'Jane Doe', 'Sam Two'])
  const unknown = await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { participants: ['doctor-1', 'nobody'] } })
  t.equal(unknown.statusCode, 400)
  t.same(unknown.json(), { error: `Failed PATCH /teleconsultation/${id}: participant nobody is unknown to the identity service` })
})

t.test('cookie, authorization, client type, the platform headers and ADDITIONAL_HEADERS_TO_PROXY are forwarded, nothing else', async t => {
  const { app, identity } = await providerSetup(t, { ADDITIONAL_HEADERS_TO_PROXY: 'x-request-id, X-Forwarded-For', DEFAULT_CLIENT_TYPE: 'backoffice' })
  await app.inject({
    method: 'POST',
    url: '/teleconsultation',
    headers: { cookie: 'sid=abc', authorization: 'Bearer t0k3n', 'client-type': 'mobile', 'x-request-id': 'req-1', 'x-forwarded-for': '10.0.0.1', 'x-secret': 'no', miauserid: 'admin' },
    payload: { participants: ['doctor-1', 'patient-1'], ...schedule() }
  })
  const seen = identity.requests.find(r => r.path === '/users/doctor-1')
  t.match(seen?.headers, { cookie: 'sid=abc', authorization: 'Bearer t0k3n', 'client-type': 'mobile', 'x-request-id': 'req-1', 'x-forwarded-for': '10.0.0.1' })
  t.notOk(seen?.headers['x-secret'])
  t.equal(seen?.headers.miauserid, 'admin', 'the caller\'s user id, as custom-plugin-lib\'s getHttpClient forwarded it')

  identity.requests.length = 0
  await app.inject({ method: 'POST', url: '/teleconsultation', headers: { cookie: 'sid=def' }, payload: { participants: ['doctor-1', 'patient-1'], ...schedule() } })
  t.equal(identity.requests[0]?.headers['client-type'], 'backoffice', 'DEFAULT_CLIENT_TYPE when the request has none')
})

t.test('a custom CLIENTTYPE_HEADER_KEY is the one forwarded', async t => {
  const { app, identity } = await providerSetup(t, { CLIENTTYPE_HEADER_KEY: 'X-Client-Kind' })
  await app.inject({ method: 'POST', url: '/teleconsultation', headers: { 'x-client-kind': 'app' }, payload: { participants: ['doctor-1', 'patient-1'], ...schedule() } })
  t.equal(identity.requests[0]?.headers['x-client-kind'], 'app')
})

t.test('answers are shared within a burst, per caller credentials', async t => {
  // The service's clock stands still unless the test moves it: the burst is one, however slow the machine.
  let clock = Date.now()
  const { app, identity } = await providerSetup(t, {}, 'memory', { now: () => clock })
  const post = async (cookie: string) => await app.inject({ method: 'POST', url: '/teleconsultation', headers: { cookie }, payload: { participants: ['doctor-1', 'patient-1'], ...schedule() } })
  t.same((await Promise.all([post('sid=1'), post('sid=1'), post('sid=1')])).map(r => r.statusCode), [201, 201, 201])
  clock += USER_CACHE_TTL_MS - 1
  t.equal((await post('sid=1')).statusCode, 201)
  t.equal(userCalls(identity, 'doctor-1'), 1, 'one lookup for four requests with the same credentials')
  await post('sid=2')
  t.equal(userCalls(identity, 'doctor-1'), 2, 'other credentials are asked again')
  clock += 1
  await post('sid=1')
  t.equal(userCalls(identity, 'doctor-1'), 3, `the answer is not reused after ${USER_CACHE_TTL_MS} ms`)
})

t.test('participants are looked up concurrently', async t => {
  const { app, identity } = await providerSetup(t)
  // One lookup at a time would never get an answer (and end in a 504).
  identity.holdUntilInFlight = 2
  for (let i = 2; i <= 6; i++) identity.users.set(`patient-${i}`, { id: `patient-${i}`, name: `P ${i}`, groups: 'patient' })
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: { participants: ['doctor-1', 'patient-1', 'patient-2', 'patient-3', 'patient-4', 'patient-5', 'patient-6'], ...schedule() } })
  t.equal(res.statusCode, 201)
  t.ok(identity.maxInFlight() > 1, `${identity.maxInFlight()} lookups at once`)
})

t.test('a participant unknown to the identity service is a 400 naming them, and nothing is created', async t => {
  const { app, emulator, stores } = await providerSetup(t)
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: { participants: ['doctor-1', 'ghost-7'], ...schedule() } })
  t.equal(res.statusCode, 400)
  t.same(res.json(), { error: 'Failed POST /teleconsultation: participant ghost-7 is unknown to the identity service' })
  t.equal(emulator.users().length, 0)
  t.equal(await stores.userMap.find('doctor-1'), null)
})

t.test('identity service failures: 502/504 with a clear message, 401 when it refuses the credentials', async t => {
  const { app, emulator, identity } = await providerSetup(t)
  // The identity service not answering needs a short deadline: an instance of its own.
  const { app: impatient } = await setup(t, {
    emulator,
    env: { AUTH_SERVICE: identity.host, IDENTITY_TIMEOUT_MS: String(FAULT_TIMEOUT_MS) }
  })
  const post = async (to = app) =>
    await to.inject({
      method: 'POST',
      url: '/teleconsultation',
      payload: { participants: ['doctor-1', 'patient-1'], ...schedule() }
    })

  identity.failWith = 500
  const failing = await post()
  t.equal(failing.statusCode, 502)
  t.same(failing.json(), { error: 'Identity service error' })

  identity.failWith = 0
  const slow = await post(impatient)
  t.equal(slow.statusCode, 504)
  t.same(slow.json(), { error: 'Identity service timeout' })

  identity.failWith = 401
  const refused = await post()
  t.equal(refused.statusCode, 401)
  t.same(refused.json(), { error: 'Unauthorized user' })

  identity.failWith = 200
  t.equal((await post()).statusCode, 502, 'an answer that is not a user')

  await identity.close()
  const down = await post()
  t.equal(down.statusCode, 502)
  t.same(down.json(), { error: 'Identity service error' })
  t.equal(emulator.users().length, 0, 'nothing was created on Kaleyra')
})

eachStore(t, 'CUSTOM_ID_USERS_API_ENDPOINT resolves custom ids first', async (t, store) => {
  const identity = await startFakeIdentity()
  t.teardown(() => identity.close())
  identity.users.set('auth0|doc', { user_id: 'auth0|doc', name: 'Dr. Who', groups: ['doctor'] })
  identity.users.set('auth0|pat', { user_id: 'auth0|pat', name: 'Pat', groups: ['patient'] })
  identity.records.push({ _id: 'c-doc', authUserId: 'auth0|doc' }, { _id: 'c-pat', authUserId: 'auth0|pat' }, { _id: 'c-twice', authUserId: 'a' }, { _id: 'c-twice', authUserId: 'b' })
  const { app, stores } = await setup(t, { store, env: { AUTH_SERVICE: identity.url, CUSTOM_ID_USERS_API_ENDPOINT: `${identity.url}/custom/users/` } })

  const res = await app.inject({ method: 'POST', url: '/teleconsultation', headers: { authorization: 'Bearer x' }, payload: { participants: ['c-doc', 'c-pat'], ...schedule() } })
  t.equal(res.statusCode, 201)
  const lookups = identity.requests.filter(r => r.path === '/custom/users/')
  t.same(lookups.map(r => r.query), [{ _id: 'c-doc' }, { _id: 'c-pat' }], 'the endpoint path is kept, trailing slash included')
  t.equal(lookups[0].headers.authorization, 'Bearer x', 'the caller credentials go there too')
  t.equal(userCalls(identity, 'auth0|doc'), 1)
  const record = await stores.teleconsultations.get(res.json().roomId)
  t.match(record?.participants, [{ userId: 'c-doc', fullName: 'Dr. Who' }, { userId: 'c-pat', fullName: 'Pat' }], 'stored under the ids the clients use')
  t.equal((await app.inject({ method: 'GET', url: `/teleconsultation/${res.json().roomId}`, headers: as('c-pat') })).statusCode, 200)

  const unknown = await app.inject({ method: 'POST', url: '/teleconsultation', payload: { participants: ['c-doc', 'c-nobody'], ...schedule() } })
  t.equal(unknown.statusCode, 400)
  t.same(unknown.json(), { error: 'Failed POST /teleconsultation: participant c-nobody is unknown to CUSTOM_ID_USERS_API_ENDPOINT (no authUserId)' })
  const twice = await app.inject({ method: 'POST', url: '/teleconsultation', payload: { participants: ['c-doc', 'c-twice'], ...schedule() } })
  t.equal(twice.statusCode, 400)
  t.match(twice.json().error, /c-twice matches several users/)
})

t.test('customUserId decides the field queried and the field read back', async t => {
  const identity = await startFakeIdentity()
  t.teardown(() => identity.close())
  identity.users.set('sub-1', { name: 'Dr. A', groups: ['doctor'] })
  identity.users.set('sub-2', { name: 'B', groups: ['patient'] })
  identity.records.push({ email: 'a@example.org', profile: { sub: 'sub-1' } }, { email: 'b@example.org', profile: { sub: 'sub-2' } })
  const { app } = await setup(t, {
    env: { AUTH_SERVICE: identity.host, CUSTOM_ID_USERS_API_ENDPOINT: `${identity.url}/custom/users/` },
    serviceConfig: { privileges: { plus: { groups: ['doctor'] }, basic: { groups: ['patient'] } }, customUserId: { source: 'email', target: 'profile.sub' } }
  })
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: { participants: ['a@example.org', 'b@example.org'], ...schedule() } })
  t.equal(res.statusCode, 201)
  t.same(identity.requests.filter(r => r.path.startsWith('/users/')).map(r => r.path).sort(), ['/users/sub-1', '/users/sub-2'])
})

t.test('/credentials and /settings read the caller\'s groups from the identity service', async t => {
  const { app, emulator, identity } = await providerSetup(t, { SETTINGS_ADMIN_GROUPS: 'admin' })
  identity.users.set('visitor', { name: 'V', groups: ['visitor'] })
  identity.users.set('boss', { name: 'B', groups: ['admin'] })

  const doctor = await app.inject({ method: 'POST', url: '/credentials', headers: as('doctor-1', ['patient']), payload: {} })
  t.equal(doctor.statusCode, 201)
  t.match(emulator.users(), [{ userId: kaleyraUserIdFor('doctor-1'), role: 'plus' }], 'the identity service wins over the groups header')
  t.equal((await app.inject({ method: 'POST', url: '/credentials', headers: as('visitor', ['doctor']), payload: {} })).statusCode, 400, 'no role for a new caller')
  const stranger = await app.inject({ method: 'POST', url: '/credentials', headers: as('nobody', ['doctor']), payload: {} })
  t.equal(stranger.statusCode, 401, 'a caller the identity service does not know')

  const update = (headers: Record<string, string>) => app.inject({ method: 'PATCH', url: '/settings/update', headers, payload: { background_alias: 'abc' } })
  t.equal((await update(as('doctor-1', ['admin']))).statusCode, 403)
  t.equal((await update(as('boss'))).statusCode, 400, 'allowed through, then Kaleyra does not know the alias')
})

t.test('reading identity answers tolerantly', async t => {
  t.same(parseIdentityUser({ user_id: 'a', name: ' Ann ', groups: ['x', '', 'y'] }), { groups: ['x', 'y'], fullName: 'Ann' })
  t.same(parseIdentityUser({ user: { fullName: 'Bo', groups: 'x, y' } }), { groups: ['x', 'y'], fullName: 'Bo' })
  t.same(parseIdentityUser({ firstName: 'C', lastName: 'D', user_metadata: { groups: [{ name: 'g' }, { id: 1 }] } }), { groups: ['g'], fullName: 'C D' })
  t.same(parseIdentityUser({ nickname: 'dd' }), { groups: [], fullName: 'dd' })
  t.same(parseIdentityUser({ sub: 'x' }), { groups: [] })
  t.equal(parseIdentityUser({ error: 'not_found' }), null, 'an error body is not a user')
  t.equal(parseIdentityUser([]), null)
  t.equal(parseIdentityUser('user'), null)

  t.same(readCustomIdTargets([{ t: 'a' }, { t: 'a' }, { t: 7 }, { t: '' }, 'x'], 't'), ['a', '7'])
  t.same(readCustomIdTargets({ nested: { t: 'z' } }, 'nested.t'), ['z'])
  t.same(readCustomIdTargets([], 't'), [])
  t.equal(readCustomIdTargets('nope', 't'), null)

  t.equal(authServiceBaseUrl('auth0-client'), 'http://auth0-client')
  t.equal(authServiceBaseUrl('https://auth.example.org'), 'https://auth.example.org')
})
