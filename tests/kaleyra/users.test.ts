// Kaleyra users: the custom id is sent as `id`; duplicates in the forms Kaleyra may answer them;
// inactive users made usable again; an id Kaleyra made up is detected and touches nothing else.
import t from 'tap'
import { MockAgent } from 'undici'
import { createKaleyraClient } from '../../src/kaleyra/client.js'
import { KaleyraFormatError, KaleyraRejectedError } from '../../src/kaleyra/errors.js'
import { kaleyraUserIdFor } from '../../src/users/kaleyra-users.js'
import { setup, UPSTREAM_TIMEOUT_MS } from '../helpers/app.js'
import { body, doctor, patient } from '../helpers/fixtures.js'

const ORIGIN = 'https://api.example.bandyer.com'

function mocked (t: { teardown: (fn: () => unknown) => void }) {
  const agent = new MockAgent()
  agent.disableNetConnect()
  t.teardown(() => agent.close())
  const errors: Array<{ details: Record<string, unknown>, message: string }> = []
  const log = { error: (details: object, message?: string) => { errors.push({ details: details as Record<string, unknown>, message: message ?? '' }) } }
  const client = createKaleyraClient({ baseUrl: ORIGIN, apiKey: 'k', timeoutMs: UPSTREAM_TIMEOUT_MS, dispatcher: agent, retries: 0, log })
  return { agent, origin: agent.get(ORIGIN), client, errors }
}

t.test('POST /v2/users carries { id, role }, never user_id', async t => {
  const { agent, origin, client } = mocked(t)
  origin.intercept({ path: '/v2/users', method: 'POST', body: JSON.stringify({ id: 'tcs-1', role: 'plus' }) }).reply(201, { id: 'tcs-1', role: 'plus' })
  t.same(await client.createUser('tcs-1', 'plus'), { userId: 'tcs-1', created: true })
  origin.intercept({ path: '/v2/users', method: 'POST' }).reply(201, { user_id: 'tcs-2' })
  t.same(await client.createUser('tcs-2', 'basic'), { userId: 'tcs-2', created: true }, 'an answer naming it user_id is understood too')
  agent.assertNoPendingInterceptors()
})

t.test('duplicates: 409, or a 400/422 whose error speaks of a duplicate or existing id; other refusals are errors', async t => {
  const { agent, origin, client } = mocked(t)
  const duplicates: Array<[number, unknown]> = [
    [409, {}],
    [409, 'not json'],
    [400, { error: 'validation_error', message: 'A user with this id already exists' }],
    [422, { error: 'duplicate_user_id' }],
    [422, { code: 'USER_EXISTS' }],
    [400, { name: 'AlreadyThere' }]
  ]
  for (const [status, answer] of duplicates) {
    origin.intercept({ path: '/v2/users', method: 'POST' }).reply(status, answer as object)
    t.same(await client.createUser('tcs-1', 'basic'), { userId: 'tcs-1', created: false }, `${status} ${JSON.stringify(answer)} means already there`)
  }
  for (const [status, answer] of [[400, { error: 'validation_error', message: 'role must be basic or plus' }], [422, {}], [403, { error: 'user_exists' }]] as const) {
    origin.intercept({ path: '/v2/users', method: 'POST' }).reply(status, answer)
    const err = await client.createUser('tcs-1', 'basic').catch((e: unknown) => e)
    t.ok(err instanceof KaleyraRejectedError, `${status} ${JSON.stringify(answer)} is a refusal`)
  }
  agent.assertNoPendingInterceptors()
})

t.test('an id other than the one sent: 502-class error, the made-up user is deactivated, nothing else is touched, one error line with field names only', async t => {
  const { agent, origin, client, errors } = mocked(t)
  origin.intercept({ path: '/v2/users', method: 'POST', body: JSON.stringify({ id: 'tcs-mine', role: 'plus' }) })
    .reply(201, { id: 'user_0a1b2c3d', role: 'plus', active: true })
    .times(2)
  origin.intercept({ path: '/v2/users/user_0a1b2c3d', method: 'PUT', body: JSON.stringify({ active: false }) }).reply(200, { id: 'user_0a1b2c3d', active: false }).times(2)
  const err = await client.createUser('tcs-mine', 'plus').catch((e: unknown) => e)
  t.ok(err instanceof KaleyraFormatError)
  t.equal((err as KaleyraFormatError).operation, 'createUser')
  await client.createUser('tcs-mine', 'plus').catch(() => {})
  agent.assertNoPendingInterceptors()

  t.equal(errors.length, 1, 'logged once, however often it happens')
  t.match(errors[0].message, /createUser answer not understood: the user was created under another id than the one sent \(request fields: id, role\)/)
  t.match(errors[0].details, { kaleyraAnswer: { call: 'createUser', keys: ['id', 'role', 'active'] } })
  t.notOk(JSON.stringify(errors).includes('user_0a1b2c3d'), 'no values')
  t.notOk(JSON.stringify(errors).includes('tcs-mine'))
})

t.test('an emulator that ignores unknown user fields: every participant gets the Kaleyra user whose id the service chose', async t => {
  const { app, emulator } = await setup(t)
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  t.equal(res.statusCode, 201)
  t.same(emulator.users().map(u => u.userId).sort(), [kaleyraUserIdFor('doctor-1'), kaleyraUserIdFor('patient-1')].sort(), 'no random ids, no orphan users')
  t.same(emulator.liveRooms()[0].participants.map(p => p.userId).sort(), emulator.users().map(u => u.userId).sort())
})

t.test('an existing inactive user is adopted and reactivated before use; an existing basic user needed as plus is upgraded in the same call', async t => {
  const { app, emulator } = await setup(t)
  for (const [id, role] of [['doctor-1', 'basic'], ['patient-1', 'basic']] as const) {
    const seeded = await fetch(`${emulator.url}/v2/users`, {
      method: 'POST', headers: { apikey: emulator.apiKey, 'content-type': 'application/json' }, body: JSON.stringify({ id: kaleyraUserIdFor(id), role })
    })
    t.equal(seeded.status, 201)
    emulator.deactivateUser(kaleyraUserIdFor(id))
  }
  const seeding = emulator.requests().length
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ participants: [doctor(), patient()] }) })
  t.equal(res.statusCode, 201)
  t.same(emulator.user(kaleyraUserIdFor('doctor-1')), { userId: kaleyraUserIdFor('doctor-1'), role: 'plus', active: true })
  t.same(emulator.user(kaleyraUserIdFor('patient-1')), { userId: kaleyraUserIdFor('patient-1'), role: 'basic', active: true })
  const calls = emulator.requests().slice(seeding).filter(r => r.path.startsWith('/v2/users')).map(r => `${r.method} ${r.status}`)
  t.same(calls.filter(c => c.startsWith('POST')), ['POST 422', 'POST 422'], 'Kaleyra refused to create them again')
  t.same(calls.filter(c => c.startsWith('PUT')), ['PUT 200', 'PUT 200'], 'one update each')
  t.equal(emulator.liveRooms().length, 1)
})
