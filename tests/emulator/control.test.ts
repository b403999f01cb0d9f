import t from 'tap'
import { createRoom, startHarness } from './fixtures/harness.js'

t.test('GET /_emulator/state shows users, live rooms, upload counts and sessions (no apikey)', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const room = await createRoom(h, undefined, { description: 'visit' })
  const gone = await createRoom(h)
  await h.call('DELETE', `/v2/rooms/${gone.room_id}`)
  h.emu.addUploads(room.room_id, 3)
  const session = h.emu.addSession(room.room_id, { transcription: { text: 'hi' } })

  const res = await h.obj('GET', '/_emulator/state', { apiKey: null })
  t.equal(res.status, 200)
  t.same(res.body.users, [{ userId: 'doc', role: 'plus' }, { userId: 'pat', role: 'basic' }])
  t.same(res.body.rooms.map((r: { roomId: string }) => r.roomId), [room.room_id], 'deleted rooms are not listed')
  t.match(res.body.rooms[0], { description: 'visit', recording: 'none', participants: [{ userId: 'doc', isAdmin: true }, { userId: 'pat', isAdmin: false }] })
  t.same(res.body.uploads, { [room.room_id]: 3 })
  t.match(res.body.sessions, [{ sessionId: session, roomId: room.room_id, transcription: { kind: 'json', bytes: 13 } }])
})

t.test('faults over HTTP', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const added = await h.obj('POST', '/_emulator/faults', { apiKey: null, body: { method: 'GET', path: '/v2/company', kind: 'status', status: 503, times: 2 } })
  t.equal(added.status, 201)
  t.same(added.body, { faults: 1 })
  t.equal((await h.call('GET', '/v2/company')).status, 503)

  const bad = await h.obj('POST', '/_emulator/faults', { body: { kind: 'status', path: 42 } })
  t.equal(bad.status, 422, 'an invalid rule is refused')
  t.equal(bad.body.error, 'validation_error')
  t.equal((await h.obj('POST', '/_emulator/faults', { body: { kind: 'status', colour: 'red' } })).status, 422)
  t.equal((await h.obj('POST', '/_emulator/faults', { body: { kind: 'latency' } })).status, 422, 'latency needs ms')

  const cleared = await h.obj('DELETE', '/_emulator/faults')
  t.same(cleared.body, { faults: 0 })
  t.equal((await h.call('GET', '/v2/company')).status, 200)
})

t.test('uploads, sessions and transcriptions over HTTP', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const room = await createRoom(h)

  const uploads = await h.obj('POST', `/_emulator/rooms/${room.room_id}/uploads`, { body: { count: 4 } })
  t.equal(uploads.status, 201)
  t.equal(uploads.body.keys.length, 4)
  t.same(h.emu.uploadsOf(room.room_id), uploads.body.keys)
  t.equal((await h.obj('POST', '/_emulator/rooms/room_nope/uploads', { body: { count: 1 } })).status, 404)
  t.equal((await h.obj('POST', `/_emulator/rooms/${room.room_id}/uploads`, { body: { count: 0 } })).status, 422)
  t.equal((await h.obj('POST', `/_emulator/rooms/${room.room_id}/uploads`, { body: { count: '2' } })).status, 422)

  const pending = await h.obj('POST', `/_emulator/rooms/${room.room_id}/sessions`)
  t.equal(pending.status, 201)
  t.match(pending.body.session_id, /^session_/)
  t.equal((await h.call('GET', `/v2/sessions/${pending.body.session_id}/transcription`)).status, 404, 'no transcription yet')

  const ready = await h.obj('PUT', `/_emulator/sessions/${pending.body.session_id}/transcription`, { body: { segments: [] } })
  t.equal(ready.status, 200)
  t.same((await h.call('GET', `/v2/sessions/${pending.body.session_id}/transcription`)).json, { segments: [] })
  t.equal((await h.obj('PUT', '/_emulator/sessions/session_nope/transcription', { body: {} })).status, 404)
  t.equal((await h.obj('PUT', `/_emulator/sessions/${pending.body.session_id}/transcription`, { body: { bytes: -1 } })).status, 422)

  const sized = await h.obj('POST', `/_emulator/rooms/${room.room_id}/sessions`, { body: { transcriptionBytes: 2048, ended: false } })
  t.equal(sized.status, 201)
  const text = (await h.call('GET', `/v2/sessions/${sized.body.session_id}/transcription`)).text
  t.equal(Buffer.byteLength(text), 2048)
  t.equal((await h.obj('GET', `/v2/sessions/${sized.body.session_id}`)).body.end_date, null)

  const given = await h.obj('POST', `/_emulator/rooms/${room.room_id}/sessions`, { body: { transcription: { a: 1 } } })
  t.same((await h.call('GET', `/v2/sessions/${given.body.session_id}/transcription`)).json, { a: 1 })

  t.equal((await h.obj('POST', `/_emulator/rooms/${room.room_id}/sessions`, { body: { transcription: {}, transcriptionBytes: 10 } })).status, 422, 'not both')
  t.equal((await h.obj('POST', `/_emulator/rooms/${room.room_id}/sessions`, { body: { transcriptionBytes: 'big' } })).status, 422)
  t.equal((await h.obj('POST', '/_emulator/rooms/room_nope/sessions', { body: {} })).status, 404)
})

t.test('POST /_emulator/reset forgets everything but the api key', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const room = await createRoom(h)
  h.emu.addUploads(room.room_id, 2)
  h.emu.faults.add({ path: '/v2/users', kind: 'status', status: 500 })
  const res = await h.obj('POST', '/_emulator/reset')
  t.equal(res.status, 200)
  const state = await h.obj('GET', '/_emulator/state')
  t.same(state.body, { users: [], rooms: [], uploads: {}, sessions: [], joins: [] })
  t.same(h.emu.requests(), [], 'the request log is empty')
  t.equal((await h.call('GET', '/v2/users')).status, 200, 'faults are cleared and the same key still works')
  t.equal((await h.call('GET', `/v2/rooms/${room.room_id}`)).status, 404)
  t.equal((await h.call('GET', room.participants[0].link)).status, 404, 'old links are dead')
})

t.test('with a teleconsultation directory, the room controls take a teleconsultation id too', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const room = await createRoom(h)
  const other = await createRoom(h)
  const tcs = new Map([['tc-1', room.room_id as string], ['tc-empty', 'room_deleted_long_ago']])

  t.equal((await h.obj('POST', '/_emulator/rooms/tc-1/uploads', { body: { count: 1 } })).status, 404, 'without a directory: Kaleyra ids only')
  const withoutDirectory = await h.obj('GET', `/_emulator/rooms/${room.room_id}`)
  t.equal(withoutDirectory.body.teleconsultationId, null)

  h.emu.useTeleconsultations({
    roomOf: async id => tcs.get(id) ?? null,
    teleconsultationOf: async roomId => [...tcs].find(([, r]) => r === roomId)?.[0] ?? null
  })
  const uploads = await h.obj('POST', '/_emulator/rooms/tc-1/uploads', { body: { count: 2 } })
  t.equal(uploads.status, 201)
  t.same(h.emu.uploadsOf(room.room_id), uploads.body.keys, 'added to the teleconsultation\'s room')
  t.same(h.emu.uploadsOf(other.room_id), [])
  const session = await h.obj('POST', '/_emulator/rooms/tc-1/sessions')
  t.equal(session.status, 201)

  const byTeleconsultation = await h.obj('GET', '/_emulator/rooms/tc-1')
  t.equal(byTeleconsultation.status, 200)
  t.match(byTeleconsultation.body, { roomId: room.room_id, teleconsultationId: 'tc-1', uploads: 2, sessions: [{ sessionId: session.body.session_id }], joins: [] })
  t.match((await h.obj('GET', `/_emulator/rooms/${room.room_id}`)).body, { roomId: room.room_id, teleconsultationId: 'tc-1' }, 'and by Kaleyra id')
  t.match((await h.obj('GET', `/_emulator/rooms/${other.room_id}`)).body, { roomId: other.room_id, teleconsultationId: null })

  const unknown = await h.obj('GET', '/_emulator/rooms/tc-unknown')
  t.equal(unknown.status, 404)
  t.equal(unknown.body.message, 'no room tc-unknown, nor a teleconsultation with a room')
  t.equal((await h.obj('POST', '/_emulator/rooms/tc-empty/uploads', { body: { count: 1 } })).status, 404, 'a room the emulator does not have')
})
