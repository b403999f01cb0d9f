import t from 'tap'
import { eachStore, setup } from '../helpers/app.js'
import { as, body, doctor, HOUR, isoFromNow, patient } from '../helpers/fixtures.js'

async function create (app: Awaited<ReturnType<typeof setup>>['app'], payload: Record<string, unknown>): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload })
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`)
  return res.json().roomId
}

eachStore(t, 'changing the dates of a teleconsultation with a room replaces the room', async (t, store) => {
  const { app, emulator, stores } = await setup(t, { store })
  const id = await create(app, body({ start: isoFromNow(2 * HOUR) }))
  const before = await stores.teleconsultations.get(id)
  const res = await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { start_date: isoFromNow(3 * HOUR), duration_in_seconds: 1800 } })
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  const after = await stores.teleconsultations.get(id)
  const live = emulator.liveRooms()
  t.equal(live.length, 1, 'the old room is gone, the new one lives')
  t.equal(live[0].roomId, after?.bandyerRoomId)
  t.not(after?.bandyerRoomId, before?.bandyerRoomId)
  t.not(after?.participants[0].accessLinkURL, before?.participants[0].accessLinkURL, 'new links')
  t.same(after?.pendingRoomDeletions, [], 'nothing left to clean up')
  t.equal(Date.parse(after!.endDate) - Date.parse(after!.startDate), 1800_000)
})

eachStore(t, 'start_date alone keeps the stored end date', async (t, store) => {
  const { app, stores } = await setup(t, { store })
  const end = isoFromNow(5 * HOUR)
  const id = await create(app, body({ start: isoFromNow(2 * HOUR), end }))
  const newStart = isoFromNow(4 * HOUR)
  t.equal((await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { start_date: newStart } })).statusCode, 204)
  const record = await stores.teleconsultations.get(id)
  t.equal(record?.startDate, newStart)
  t.equal(record?.endDate, end)
})

eachStore(t, 'completing the participants creates the room', async (t, store) => {
  const { app, emulator, stores } = await setup(t, { store })
  const id = await create(app, body({ participants: [doctor()], number: 2, start: isoFromNow(HOUR) }))
  t.equal(emulator.liveRooms().length, 0)
  const res = await app.inject({
    method: 'PATCH',
    url: `/teleconsultation/${id}`,
    payload: { participants: { number: 2, data: [doctor(), patient()] } }
  })
  t.equal(res.statusCode, 204)
  t.equal(emulator.liveRooms().length, 1)
  t.equal((await stores.teleconsultations.get(id))?.bandyerRoomId, emulator.liveRooms()[0].roomId)
})

eachStore(t, 'raising the expected number removes the room until everyone is known', async (t, store) => {
  const { app, emulator, stores } = await setup(t, { store })
  const id = await create(app, body({ start: isoFromNow(HOUR) }))
  t.equal(emulator.liveRooms().length, 1)
  const res = await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { participants: { number: 3, data: [doctor(), patient()] } } })
  t.equal(res.statusCode, 204)
  t.equal(emulator.liveRooms().length, 0)
  const record = await stores.teleconsultations.get(id)
  t.equal(record?.bandyerRoomId, null)
  t.same(record?.participants.map(p => p.accessLinkURL), [null, null])
})

eachStore(t, 'a PATCH that changes nothing keeps the room and its links', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  const payload = body({ start: isoFromNow(HOUR) })
  const id = await create(app, payload)
  const roomBefore = emulator.liveRooms()[0].roomId
  t.equal((await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload })).statusCode, 204)
  t.equal((await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: {} })).statusCode, 204)
  t.same(emulator.liveRooms().map(r => r.roomId), [roomBefore])
})

eachStore(t, 'renaming a participant keeps the room', async (t, store) => {
  const { app, emulator, stores } = await setup(t, { store })
  const id = await create(app, body({ start: isoFromNow(HOUR) }))
  const roomBefore = emulator.liveRooms()[0].roomId
  const res = await app.inject({
    method: 'PATCH',
    url: `/teleconsultation/${id}`,
    payload: { participants: { number: 2, data: [{ ...doctor(), fullName: 'Dr Renamed' }, patient()] } }
  })
  t.equal(res.statusCode, 204)
  t.same(emulator.liveRooms().map(r => r.roomId), [roomBefore])
  const record = await stores.teleconsultations.get(id)
  t.equal(record?.participants[0].fullName, 'Dr Renamed')
  t.not(record?.participants[0].accessLinkURL, null, 'links are kept')
})

eachStore(t, 'no plus user after the change is refused and nothing changes', async (t, store) => {
  const { app, emulator, stores } = await setup(t, { store })
  const id = await create(app, body({ start: isoFromNow(HOUR) }))
  const before = await stores.teleconsultations.get(id)
  const res = await app.inject({
    method: 'PATCH',
    url: `/teleconsultation/${id}`,
    payload: { participants: { number: 2, data: [patient('a'), patient('b')] } }
  })
  t.equal(res.statusCode, 400)
  t.same(res.json(), { error: 'Failed PATCH /teleconsultation: no plus user in room' })
  t.same(await stores.teleconsultations.get(id), before)
  t.equal(emulator.liveRooms().length, 1)
})

eachStore(t, 'a frozen teleconsultation refuses changes with 409', async (t, store) => {
  const { app, emulator, stores } = await setup(t, { store, env: { IMMUTABLE_PERIOD_MS: String(10 * 60_000) } })
  const id = await create(app, body({ start: isoFromNow(5 * 60_000) }))
  const before = await stores.teleconsultations.get(id)
  const res = await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { duration_in_seconds: 900 } })
  t.equal(res.statusCode, 409)
  t.same(res.json(), { error: `Failed PATCH /teleconsultation/${id}: teleconsultation can no longer be modified` })
  t.same(await stores.teleconsultations.get(id), before)
  t.equal(emulator.liveRooms().length, 1)
})

eachStore(t, 'outside the immutable window the same change is accepted', async (t, store) => {
  const { app } = await setup(t, { store, env: { IMMUTABLE_PERIOD_MS: String(10 * 60_000) } })
  const id = await create(app, body({ start: isoFromNow(20 * 60_000) }))
  const res = await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { duration_in_seconds: 900 } })
  t.equal(res.statusCode, 204)
})

eachStore(t, 'a teleconsultation without a room is never frozen, even after its start', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  const id = await create(app, body({ participants: [doctor()], number: 2, start: isoFromNow(-HOUR) }))
  const res = await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { participants: { number: 2, data: [doctor(), patient()] } } })
  t.equal(res.statusCode, 204)
  t.equal(emulator.liveRooms().length, 1)
})

eachStore(t, 'an unknown teleconsultation is 404', async (t, store) => {
  const { app } = await setup(t, { store })
  const res = await app.inject({ method: 'PATCH', url: '/teleconsultation/aaaaaaaaaaaaaaaaaaaaaaaa', payload: { duration_in_seconds: 900 } })
  t.equal(res.statusCode, 404)
  t.same(res.json(), { error: 'Room with id aaaaaaaaaaaaaaaaaaaaaaaa not found on CRUD' })
})

eachStore(t, 'after a replacement only the new link works for the participant', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  const id = await create(app, body({ start: isoFromNow(HOUR) }))
  await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { start_date: isoFromNow(-60_000) } })
  const res = await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('doctor-1') })
  const link: string = res.json().accessLinkURL
  t.ok(link.startsWith(emulator.url), 'the link opens the (emulated) Kaleyra call')
  t.equal(emulator.liveRooms()[0].participants.some(p => link.startsWith(p.link)), true)
})
