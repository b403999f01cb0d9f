import t from 'tap'
import { request } from 'undici'
import { startKaleyraEmulator } from '../../src/emulator/index.js'
import { API_KEY, createRoom, startHarness } from './fixtures/harness.js'

t.test('settings: read and changed over HTTP or in code, checked, and back to the start ones on reset', async t => {
  const h = await startHarness({ roomOrder: 'oldest-first' })
  t.teardown(() => h.close())
  const read = await h.obj('GET', '/_emulator/settings', { apiKey: null })
  t.same(read.body, {
    offlineTranscription: true,
    transcriptionDelivery: 'inline',
    chunkedFiles: false,
    roomOrder: 'oldest-first',
    roomFromFilter: 'supported',
    roomLinkField: 'link',
    omitCreatedUserId: false
  })
  const changed = await h.obj('PATCH', '/_emulator/settings', { body: { offlineTranscription: false, roomLinkField: 'join_url' } })
  t.equal(changed.status, 200)
  t.match(changed.body, { offlineTranscription: false, roomLinkField: 'join_url', roomOrder: 'oldest-first' })
  for (const bad of [{ roomOrder: 'random' }, { colour: 'red' }, { roomLinkField: 'user_id' }, { roomLinkField: 'Bad-Name' }, { chunkedFiles: 'yes' }, [1]]) {
    const res = await h.obj('PATCH', '/_emulator/settings', { body: bad })
    t.equal(res.status, 422, `refused: ${JSON.stringify(bad)}`)
  }
  t.match(h.emu.configure({ transcriptionDelivery: 'link' }), { transcriptionDelivery: 'link', roomLinkField: 'join_url' })
  t.throws(() => h.emu.configure({ roomFromFilter: 'maybe' as 'ignored' }), TypeError)
  await h.call('POST', '/_emulator/reset')
  t.match(h.emu.settings(), { offlineTranscription: true, roomLinkField: 'link', transcriptionDelivery: 'inline', roomOrder: 'oldest-first' }, 'the start settings come back')
  await t.rejects(startKaleyraEmulator({ apiKey: 'k', settings: { roomOrder: 'sideways' as 'oldest-first' } }), TypeError)
})

t.test('room lists: newest first by default or oldest first; the from filter supported, ignored or refused', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const old = h.emu.addRooms(3)
  const fresh = await createRoom(h)
  const ids = async (query: Record<string, string | number> = {}): Promise<string[]> =>
    (await h.obj('GET', '/v2/rooms', { query: { limit: 100, ...query } })).body.rooms.map((r: { room_id: string }) => r.room_id)

  t.same(await ids(), [fresh.room_id, ...[...old].reverse()], 'newest first')
  const since = new Date(Date.now() - 60_000).toISOString()
  t.same(await ids({ from: since }), [fresh.room_id], 'from: rooms created since then')
  t.equal((await h.obj('GET', '/v2/rooms', { query: { from: 'yesterday-ish' } })).status, 422)

  h.emu.configure({ roomOrder: 'oldest-first', roomFromFilter: 'ignored' })
  t.same(await ids({ from: since }), [...old, fresh.room_id], 'oldest first, from ignored')
  h.emu.configure({ roomFromFilter: 'refused' })
  const refused = await h.obj('GET', '/v2/rooms', { query: { from: since } })
  t.equal(refused.status, 400)
  t.equal(refused.body.error, 'bad_request')
  t.same(await ids(), [...old, fresh.room_id], 'without from the list still answers')

  const seeded = await h.obj('POST', '/_emulator/rooms', { body: { count: 2, ageMs: 1000 } })
  t.same(seeded.body, { rooms: 2 })
  t.equal(h.emu.liveRooms().length, 6)
  t.equal((await h.obj('POST', '/_emulator/rooms', { body: { count: 0 } })).status, 422)
  t.match(h.emu.liveRooms()[0], { description: 'seeded room 1', participants: [{ userId: 'seeded_plus', isAdmin: true }, { userId: 'seeded_basic' }] })
})

t.test('room answers can name the participant link field otherwise', async t => {
  const h = await startHarness({ roomLinkField: 'join_url' })
  t.teardown(() => h.close())
  const room = await createRoom(h)
  t.notOk('link' in room.participants[0])
  t.match(room.participants[0].join_url, /\/join\//)
  t.match((await h.obj('GET', `/v2/rooms/${String(room.room_id)}`)).body.participants[1], { user_id: 'pat', join_url: /\/join\// })
})

t.test('a company without offline transcription refuses rooms that ask for it', async t => {
  const h = await startHarness({ offlineTranscription: false })
  t.teardown(() => h.close())
  await createRoom(h, undefined, { recording: 'automatic' })
  const res = await h.obj('POST', '/v2/rooms', {
    body: { participants: [{ user_id: 'doc', is_admin: true }, { user_id: 'pat', is_admin: false }], recording: 'automatic', offline_transcription: true }
  })
  t.equal(res.status, 400)
  t.equal(res.body.error, 'transcription_not_enabled')
  t.match(res.body.message, /transcription/i)
  t.equal(h.emu.liveRooms().length, 1)
})

t.test('transcriptions as links, served by a second origin that takes no apikey and records what it was sent', async t => {
  const h = await startHarness({ transcriptionDelivery: 'link' })
  t.teardown(() => h.close())
  t.not(new URL(h.emu.filesUrl).port, new URL(h.emu.url).port, 'another origin')
  const room = await createRoom(h)
  const session = h.emu.addSession(room.room_id, { transcription: { segments: [{ text: 'hello' }] } })
  const answer = await h.obj('GET', `/v2/sessions/${session}/transcription`)
  t.equal(answer.status, 200)
  t.match(answer.body, { url: new RegExp(`^${h.emu.filesUrl}/files/[\\w-]+$`), expires_at: String })

  const file = await request(answer.body.url as string, { headers: { 'x-probe': 'yes' } })
  t.equal(file.statusCode, 200)
  t.equal(file.headers['content-length'], String(Buffer.byteLength('{"segments":[{"text":"hello"}]}')))
  t.same(await file.body.json(), { segments: [{ text: 'hello' }] })
  t.match(h.emu.fileRequests(), [{ method: 'GET', status: 200, headers: { 'x-probe': 'yes' } }])
  t.ok(h.emu.fileRequests()[0].bytes > 0)

  h.emu.configure({ chunkedFiles: true })
  const sized = h.emu.addSession(room.room_id, { transcriptionBytes: 5000 })
  const link = (await h.obj('GET', `/v2/sessions/${sized}/transcription`)).body.url as string
  const chunked = await request(link)
  t.equal(chunked.headers['content-length'], undefined, 'chunked')
  t.equal(Buffer.byteLength(await chunked.body.text()), 5000)
  const unknown = await request(`${h.emu.filesUrl}/files/nope`)
  t.equal(unknown.statusCode, 404)
  await unknown.body.dump()
  t.equal((await h.call('GET', `/v2/sessions/${h.emu.addSession(room.room_id)}/transcription`)).status, 404, 'not ready: still 404')
})

t.test('status faults can carry Retry-After (seconds or a date), before or after processing', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  h.emu.faults.add({ method: 'GET', path: '/v2/company', kind: 'status', status: 429, retryAfter: 2, times: 1 })
  const limited = await h.call('GET', '/v2/company')
  t.equal(limited.status, 429)
  t.equal(limited.headers['retry-after'], '2')
  const date = 'Wed, 21 Oct 2037 07:28:00 GMT'
  h.emu.faults.add({ method: 'POST', path: '/v2/users', kind: 'status', status: 429, retryAfter: date, phase: 'after', times: 1 })
  const after = await h.call('POST', '/v2/users', { body: { id: 'late', role: 'basic' } })
  t.equal(after.status, 429)
  t.equal(after.headers['retry-after'], date)
  t.equal(h.emu.user('late')?.active, true, 'after: the user was created all the same')
  for (const bad of [{ kind: 'status', retryAfter: -1 }, { kind: 'status', retryAfter: 'soon' }, { kind: 'latency', ms: 1, retryAfter: 1 }]) {
    t.equal((await h.obj('POST', '/_emulator/faults', { body: bad })).status, 422, `refused: ${JSON.stringify(bad)}`)
  }
})

t.test('user agents of API calls are recorded', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  await h.call('GET', '/v2/company', { headers: { 'user-agent': 'probe/1.0' } })
  await h.call('GET', '/v2/company', { headers: { 'user-agent': 'probe/1.0' }, apiKey: API_KEY })
  t.same(h.emu.userAgents(), ['probe/1.0'])
})
