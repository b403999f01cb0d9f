import t from 'tap'
import { eachStore, setup } from '../helpers/app.js'
import { body, doctor, HOUR, isoFromNow, patient } from '../helpers/fixtures.js'

async function partial (app: Awaited<ReturnType<typeof setup>>['app'], number = 3): Promise<string> {
  return (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ participants: [doctor()], number, start: isoFromNow(HOUR) }) })).json().roomId
}

eachStore(t, 'participants are added one by one and the last one creates the room', async (t, store) => {
  const { app, emulator, stores } = await setup(t, { store })
  const id = await partial(app)
  const first = await app.inject({ method: 'POST', url: `/teleconsultation/${id}/participants/data`, payload: patient('p1') })
  t.equal(first.statusCode, 201)
  t.equal(first.body, '')
  t.equal(emulator.liveRooms().length, 0)
  const second = await app.inject({ method: 'POST', url: `/teleconsultation/${id}/participants/data`, payload: { userExternalId: 'p2', groups: ['patient'], fullName: 'P2' } })
  t.equal(second.statusCode, 201)
  const record = await stores.teleconsultations.get(id)
  t.same(record?.participants.map(p => p.userId), ['doctor-1', 'p1', 'p2'])
  t.equal(emulator.liveRooms().length, 1)
  t.equal(record?.bandyerRoomId, emulator.liveRooms()[0].roomId)
  t.ok(record?.participants.every(p => p.accessLinkURL !== null))
})

eachStore(t, 'one participant too many is refused', async (t, store) => {
  const { app } = await setup(t, { store })
  const id = await partial(app, 2)
  t.equal((await app.inject({ method: 'POST', url: `/teleconsultation/${id}/participants/data`, payload: patient('p1') })).statusCode, 201)
  const res = await app.inject({ method: 'POST', url: `/teleconsultation/${id}/participants/data`, payload: patient('p2') })
  t.equal(res.statusCode, 400)
  t.match(res.json().error, /already has all its 2 participants/)
})

eachStore(t, 'the last participant without any plus user is refused with the documented message', async (t, store) => {
  const { app, emulator, stores } = await setup(t, { store })
  const id = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ participants: [patient('p0')], number: 2 }) })).json().roomId
  const before = await stores.teleconsultations.get(id)
  const res = await app.inject({ method: 'POST', url: `/teleconsultation/${id}/participants/data`, payload: patient('p1') })
  t.equal(res.statusCode, 400)
  t.same(res.json(), { error: `Failed POST /teleconsultation/${id}/participants/data: no plus user in room` })
  t.same(await stores.teleconsultations.get(id), before)
  t.equal(emulator.liveRooms().length, 0)
})

eachStore(t, 'a participant already in the list is refused', async (t, store) => {
  const { app } = await setup(t, { store })
  const id = await partial(app)
  const res = await app.inject({ method: 'POST', url: `/teleconsultation/${id}/participants/data`, payload: doctor() })
  t.equal(res.statusCode, 400)
  t.match(res.json().error, /listed more than once/)
})

eachStore(t, 'unknown teleconsultation → 404; missing userId → 400', async (t, store) => {
  const { app } = await setup(t, { store })
  const missing = await app.inject({ method: 'POST', url: '/teleconsultation/ffffffffffffffffffffffff/participants/data', payload: patient() })
  t.equal(missing.statusCode, 404)
  const id = await partial(app)
  const noId = await app.inject({ method: 'POST', url: `/teleconsultation/${id}/participants/data`, payload: { groups: ['patient'], fullName: 'X' } })
  t.equal(noId.statusCode, 400)
  t.match(noId.json().error, /needs a userId/)
})

eachStore(t, 'the route is marked deprecated in the OpenAPI document', async (t, store) => {
  const { app } = await setup(t, { store })
  const spec = (await app.inject({ method: 'GET', url: '/documentation/json' })).json()
  t.equal(spec.paths['/teleconsultation/{id}/participants/data'].post.deprecated, true)
})
