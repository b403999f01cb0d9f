// New Kaleyra user ids are keyed hashes of the external id (KALEYRA_USER_ID_SECRET, default the
// API key): an id seen in a room cannot be matched to a guessed e-mail without the secret.
// Users already in the user-id map keep the id they have.
import { createHash } from 'node:crypto'
import t from 'tap'
import { kaleyraUserIdFor } from '../../src/users/kaleyra-users.js'
import { createMemoryStores } from '../../src/store/memory.js'
import { setup } from '../helpers/app.js'
import { body, doctor, patient } from '../helpers/fixtures.js'
import { TEST_USER_ID_SECRET } from '../helpers/kaleyra-ids.js'

const EMAIL = 'mario.rossi@example.org'

/** What an outsider can compute from a guessed id: its plain SHA-256, the derivation before keyed ids. */
function unkeyed (externalId: string): string {
  return 'tcs-' + createHash('sha256').update(externalId, 'utf8').digest('hex').slice(0, 40)
}

t.test('the id of a new user depends on the secret, and is not the plain hash of the external id', async t => {
  const withSecret = kaleyraUserIdFor(EMAIL, 'secret-one')
  t.equal(withSecret, kaleyraUserIdFor(EMAIL, 'secret-one'), 'same secret, same id (replicas agree)')
  t.not(withSecret, kaleyraUserIdFor(EMAIL, 'secret-two'), 'another secret, another id')
  t.not(withSecret, unkeyed(EMAIL), 'a guessed e-mail hashed without the secret does not give the id')
})

t.test('KALEYRA_USER_ID_SECRET keys the ids of the users a creation makes', async t => {
  const { app, emulator } = await setup(t, { env: { KALEYRA_USER_ID_SECRET: 'operator-secret' } })
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ participants: [doctor(EMAIL), patient()] }) })
  t.equal(res.statusCode, 201)
  const ids = emulator.users().map(u => u.userId)
  t.ok(ids.includes(kaleyraUserIdFor(EMAIL, 'operator-secret')))
  t.notOk(ids.includes(unkeyed(EMAIL)))
  t.notOk(ids.some(id => id.includes('rossi')))
})

t.test('without KALEYRA_USER_ID_SECRET the API key is the secret', async t => {
  const { app, emulator } = await setup(t, { env: { KALEYRA_USER_ID_SECRET: undefined } })
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  t.equal(res.statusCode, 201)
  t.same(emulator.users().map(u => u.userId).sort(), [kaleyraUserIdFor('doctor-1', emulator.apiKey), kaleyraUserIdFor('patient-1', emulator.apiKey)].sort())
})

t.test('a user already mapped keeps their id (unkeyed ids of earlier versions, random ids of 2.1)', async t => {
  const stores = createMemoryStores()
  const { app, emulator } = await setup(t, { stores })
  const legacy = [
    { receivedUserId: 'doctor-1', bandyerId: unkeyed('doctor-1') },
    { receivedUserId: 'patient-1', bandyerId: 'a1b2c3d4-random-2-1' }
  ]
  for (const row of legacy) {
    await stores.userMap.insert(row)
    const created = await fetch(`${emulator.url}/v2/users`, {
      method: 'POST', headers: { apikey: emulator.apiKey, 'content-type': 'application/json' }, body: JSON.stringify({ id: row.bandyerId, role: row.receivedUserId === 'doctor-1' ? 'plus' : 'basic' })
    })
    t.equal(created.status, 201)
  }
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  t.equal(res.statusCode, 201)
  t.same(emulator.users().map(u => u.userId).sort(), legacy.map(r => r.bandyerId).sort(), 'no user created, none renamed')
  const [room] = emulator.liveRooms()
  t.same(room.participants.map(p => p.userId).sort(), legacy.map(r => r.bandyerId).sort(), 'the room uses the mapped ids')
  t.same((await stores.userMap.find('doctor-1'))?.bandyerId, unkeyed('doctor-1'))
  t.not(kaleyraUserIdFor('doctor-1', TEST_USER_ID_SECRET), unkeyed('doctor-1'))
})
