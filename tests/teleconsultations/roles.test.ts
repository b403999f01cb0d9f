import t from 'tap'
import { kaleyraUserIdFor } from '../../src/users/kaleyra-users.js'
import { eachStore, setup } from '../helpers/app.js'
import { body, doctor, patient } from '../helpers/fixtures.js'

const roleOf = (users: Array<{ userId: string, role: string }>, externalId: string) =>
  users.find(u => u.userId === kaleyraUserIdFor(externalId))?.role

eachStore(t, 'someone first seen as a patient can later be the doctor of a room: their Kaleyra user becomes plus', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  const first = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ participants: [doctor('dr-a'), patient('alex')] }) })
  t.equal(first.statusCode, 201)
  t.equal(roleOf(emulator.users(), 'alex'), 'basic')

  const asDoctor = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ participants: [doctor('alex'), patient('pat-b')] }) })
  t.equal(asDoctor.statusCode, 201, 'the room is created with alex as its plus user')
  t.equal(roleOf(emulator.users(), 'alex'), 'plus')
  t.equal(emulator.liveRooms().length, 2)

  const puts = () => emulator.requests().filter(r => r.method === 'PUT').length
  t.equal(puts(), 1, 'one upgrade')
  const again = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ participants: [doctor('alex'), patient('pat-c')] }) })
  t.equal(again.statusCode, 201)
  t.equal(puts(), 1, 'checked once per process')
  const readsOfAlex = emulator.requests().filter(r => r.method === 'GET' && r.path === `/v2/users/${kaleyraUserIdFor('alex')}`).length
  t.equal(readsOfAlex, 1, 'one role read for alex, then remembered')

  const asPatient = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ participants: [doctor('dr-a'), patient('alex')] }) })
  t.equal(asPatient.statusCode, 201)
  t.equal(roleOf(emulator.users(), 'alex'), 'plus', 'never downgraded: only the room tools and admin flag follow the groups')
})

eachStore(t, 'a Kaleyra user that already exists as basic (no user-map row) is adopted and upgraded when needed as plus', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  const seeded = await fetch(`${emulator.url}/v2/users`, {
    method: 'POST',
    headers: { apikey: emulator.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ id: kaleyraUserIdFor('dr-lost'), role: 'basic' })
  })
  t.equal(seeded.status, 201)
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ participants: [doctor('dr-lost'), patient()] }) })
  t.equal(res.statusCode, 201)
  t.equal(roleOf(emulator.users(), 'dr-lost'), 'plus')
  t.equal(emulator.liveRooms().length, 1)
})

t.test('the upgrade failing answers 502 and creates no room; the retry succeeds', async t => {
  const { app, emulator } = await setup(t)
  t.equal((await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ participants: [doctor('dr-a'), patient('alex')] }) })).statusCode, 201)
  emulator.faults.add({ method: 'PUT', path: '/v2/users', kind: 'status', status: 503 })
  const payload = body({ participants: [doctor('alex'), patient('pat-b')] })
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload })
  t.equal(res.statusCode, 502)
  t.same(res.json(), { error: 'Kaleyra service error' })
  t.equal(emulator.liveRooms().length, 1, 'no room created')
  t.equal(roleOf(emulator.users(), 'alex'), 'basic')

  emulator.faults.clear()
  t.equal((await app.inject({ method: 'POST', url: '/teleconsultation', payload })).statusCode, 201)
  t.equal(roleOf(emulator.users(), 'alex'), 'plus')
  t.equal(emulator.liveRooms().length, 2)
})
