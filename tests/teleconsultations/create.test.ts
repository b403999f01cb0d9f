import t from 'tap'
import { kaleyraUserIdFor } from '../helpers/kaleyra-ids.js'
import { eachStore, setup } from '../helpers/app.js'
import { as, body, doctor, HOUR, isoFromNow, patient } from '../helpers/fixtures.js'

eachStore(t, 'a complete teleconsultation gets a Kaleyra room with one link per participant', async (t, store) => {
  const { app, emulator, stores } = await setup(t, { store })
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  t.equal(res.statusCode, 201)
  const { roomId } = res.json()
  t.match(roomId, /^[a-f0-9]{24}$/)

  const rooms = emulator.liveRooms()
  t.equal(rooms.length, 1)
  const room = rooms[0]
  const record = await stores.teleconsultations.get(roomId)
  t.equal(record?.bandyerRoomId, room.roomId, 'the record points to the Kaleyra room')
  t.equal(room.participants.length, 2)
  const admin = room.participants.find(p => p.userId === kaleyraUserIdFor('doctor-1'))
  const basic = room.participants.find(p => p.userId === kaleyraUserIdFor('patient-1'))
  t.equal(admin?.isAdmin, true, 'plus participants are room admins')
  t.equal(basic?.isAdmin, false)
  t.same(admin?.tools, {
    chat: true,
    screen_sharing: true,
    file_upload: true,
    whiteboard: true,
    snapshot: true,
    live_edit: true,
    live_pointer: true,
    present_to_everyone: true
  })
  t.equal(room.recording, 'none')
  t.equal(room.live, true)
  t.equal(room.duration ?? null, null, 'unlimited by default: no duration')
  t.same(record?.participants.map(p => [p.userId, p.accessLinkURL]), [
    ['doctor-1', admin?.link], ['patient-1', basic?.link]
  ], 'each participant keeps their personal link')
  t.same(emulator.users().map(u => u.role).sort(), ['basic', 'plus'], 'users are created with the role of their groups')
})

eachStore(t, 'a partial teleconsultation creates users but no room', async (t, store) => {
  const { app, emulator, stores } = await setup(t, { store })
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ participants: [doctor()], number: 3 }) })
  t.equal(res.statusCode, 201)
  t.equal(emulator.liveRooms().length, 0)
  t.equal(emulator.users().length, 1, 'the known participant already has a Kaleyra user')
  const record = await stores.teleconsultations.get(res.json().roomId)
  t.equal(record?.bandyerRoomId, null)
  t.equal(record?.participantsNumber, 3)
  t.equal(record?.participants[0].accessLinkURL, null)
})

eachStore(t, 'no plus user among a complete list is refused before anything is created', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ participants: [patient('a'), patient('b')] }) })
  t.equal(res.statusCode, 400)
  t.same(res.json(), { error: 'Failed POST /teleconsultation: no plus user in room' })
  t.equal(emulator.users().length, 0)
  t.equal(emulator.liveRooms().length, 0)
})

eachStore(t, 'legacy userExternalId and a single legacy group are accepted', async (t, store) => {
  const { app, stores } = await setup(t, { store })
  const res = await app.inject({
    method: 'POST',
    url: '/teleconsultation',
    payload: {
      participants: {
        number: 2,
        data: [
          { userExternalId: 'doc-legacy', group: 'doctor', fullName: 'Doc' },
          { userExternalId: 'pat-legacy', groups: ['patient'], fullName: 'Pat' }
        ]
      },
      start_date: isoFromNow(HOUR),
      end_date: isoFromNow(2 * HOUR)
    }
  })
  t.equal(res.statusCode, 201)
  const record = await stores.teleconsultations.get(res.json().roomId)
  t.same(record?.participants.map(p => p.userId), ['doc-legacy', 'pat-legacy'])
  t.not(record?.bandyerRoomId, null)
})

eachStore(t, 'a participant in several groups gets the higher role', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  const res = await app.inject({
    method: 'POST',
    url: '/teleconsultation',
    payload: body({ participants: [{ ...patient('both'), groups: ['patient', 'doctor'] }, patient('p2')] })
  })
  t.equal(res.statusCode, 201)
  t.equal(emulator.users().find(u => u.userId === kaleyraUserIdFor('both'))?.role, 'plus')
})

eachStore(t, 'a known user is not created twice', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  t.equal(emulator.users().length, 2)
  t.equal(emulator.requests().filter(r => r.method === 'POST' && r.path === '/v2/users').length, 2)
  t.equal(emulator.liveRooms().length, 2, 'each teleconsultation has its own room')
})

eachStore(t, 'room options follow the configuration', async (t, store) => {
  const { app, emulator } = await setup(t, {
    store,
    env: { UNLIMITED_TELECONSULTATION: 'false', LIVE_TELECONSULTATION: 'false', DEFAULT_RECORDING_TYPE: 'automatic' }
  })
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ duration: 1800 }) })
  t.equal(res.statusCode, 201)
  const [room] = emulator.liveRooms()
  t.equal(room.duration, 1800)
  t.equal(room.live, false)
  t.equal(room.recording, 'automatic')
  t.equal(room.offlineTranscription, true, 'recorded rooms ask for the transcription')
})

eachStore(t, 'tools come from the privileges of each role', async (t, store) => {
  const { app, emulator } = await setup(t, {
    store,
    serviceConfig: {
      privileges: {
        plus: { groups: ['doctor'] },
        basic: { groups: ['patient'], tools: { chat: false, file_upload: false } }
      }
    }
  })
  await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  const [room] = emulator.liveRooms()
  const basic = room.participants.find(p => !p.isAdmin)
  t.equal(basic?.tools?.chat, false)
  t.equal(basic?.tools?.file_upload, false)
  t.equal(basic?.tools?.whiteboard, true)
})

eachStore(t, 'the created teleconsultation is readable by its participants', async (t, store) => {
  const { app } = await setup(t, { store })
  const { roomId } = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })).json()
  const res = await app.inject({ method: 'GET', url: `/teleconsultation/${roomId}`, headers: as('patient-1') })
  t.equal(res.statusCode, 200)
  t.equal(res.json().bandyerUserId, kaleyraUserIdFor('patient-1'))
})

eachStore(t, 'rooms with a duration last at most 24 hours (Kaleyra\'s limit); unlimited rooms have no such limit', async (t, store) => {
  const limited = await setup(t, { store, env: { UNLIMITED_TELECONSULTATION: 'false' } })
  const tooLong = await limited.app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ duration: 86_401 }) })
  t.equal(tooLong.statusCode, 400)
  t.same(tooLong.json(), { error: 'Failed POST /teleconsultation: the teleconsultation cannot last more than 24 hours' })
  t.equal(limited.emulator.users().length, 0, 'nothing was created')

  const day = await limited.app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ start: isoFromNow(HOUR), duration: 86_400 }) })
  t.equal(day.statusCode, 201, 'exactly 24 hours is accepted')
  const [room] = limited.emulator.liveRooms()
  t.equal(room.duration, 86_400)
  const id: string = day.json().roomId
  const record = await limited.stores.teleconsultations.get(id)
  const longer = await limited.app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { end_date: new Date(Date.parse(record!.startDate) + 86_401_000).toISOString() } })
  t.equal(longer.statusCode, 400)
  t.same(longer.json(), { error: `Failed PATCH /teleconsultation/${id}: the teleconsultation cannot last more than 24 hours` })
  t.same(await limited.stores.teleconsultations.get(id), record, 'the PATCH changed nothing')
  t.same(limited.emulator.liveRooms().map(r => r.roomId), [room.roomId], 'the room was kept')

  const unlimited = await setup(t, { store })
  const res = await unlimited.app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ duration: 2 * 86_400 }) })
  t.equal(res.statusCode, 201)
  t.equal(unlimited.emulator.liveRooms()[0].duration ?? null, null)
})
