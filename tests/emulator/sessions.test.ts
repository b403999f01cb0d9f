import t from 'tap'
import { request } from 'undici'
import { API_KEY, createRoom, startHarness } from './fixtures/harness.js'

const MB = 1024 * 1024

t.test('sessions: list by room, get one', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const room = await createRoom(h, undefined, { recording: 'automatic', offline_transcription: true })
  const other = await createRoom(h)
  const ids = Array.from({ length: 12 }, () => h.emu.addSession(room.room_id))
  const open = h.emu.addSession(other.room_id, { ended: false })

  const page = await h.obj('GET', '/v2/sessions', { query: { room_id: room.room_id } })
  t.equal(page.status, 200)
  t.match(page.body, { offset: 0, limit: 10, count: 10, has_more: true })
  t.match(page.body.sessions[0], { session_id: ids[0], room_id: room.room_id })
  t.ok(Date.parse(page.body.sessions[0].start_date) <= Date.parse(page.body.sessions[0].end_date), 'start before end')
  const rest = await h.obj('GET', '/v2/sessions', { query: { room_id: room.room_id, offset: 10, limit: 10 } })
  t.same(rest.body.sessions.map((s: { session_id: string }) => s.session_id), ids.slice(10))
  t.equal(rest.body.has_more, false)

  const one = await h.obj('GET', `/v2/sessions/${open}`)
  t.equal(one.status, 200)
  t.match(one.body, { session_id: open, room_id: other.room_id, end_date: null })
  const missing = await h.obj('GET', '/v2/sessions/session_nope')
  t.equal(missing.status, 404)
  t.equal(missing.body.error, 'not_found')
  t.throws(() => h.emu.addSession('room_nope'), /unknown room/)
})

t.test('transcription: 404 until ready, then 200 JSON', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const room = await createRoom(h, undefined, { recording: 'manual', offline_transcription: true })
  const session = h.emu.addSession(room.room_id)

  const notReady = await h.obj('GET', `/v2/sessions/${session}/transcription`)
  t.equal(notReady.status, 404)
  t.same(notReady.body, { error: 'not_found', message: 'transcription not available' })
  const unknown = await h.obj('GET', '/v2/sessions/session_nope/transcription')
  t.same(unknown.body, { error: 'not_found', message: 'transcription not available' })
  t.equal(unknown.status, 404)

  const transcription = { session_id: session, segments: [{ speaker: 'doc', text: 'Hello <b>there</b> é' }] }
  h.emu.setTranscription(session, transcription)
  const ready = await h.obj('GET', `/v2/sessions/${session}/transcription`)
  t.equal(ready.status, 200)
  t.match(ready.headers['content-type'], /^application\/json/)
  t.equal(Number(ready.headers['content-length']), Buffer.byteLength(ready.text), 'content-length is set')
  t.same(ready.json, transcription)

  const given = h.emu.addSession(room.room_id, { transcription: ['a', 'b'] })
  t.same((await h.obj('GET', `/v2/sessions/${given}/transcription`)).json, ['a', 'b'], 'a transcription given at creation is ready')

  h.emu.setTranscription(session, { bytes: 100_000 })
  const generated = await h.obj('GET', `/v2/sessions/${session}/transcription`)
  t.equal(generated.status, 200)
  t.equal(Buffer.byteLength(generated.text), 100_000, 'exactly the requested size')
  t.equal(Number(generated.headers['content-length']), 100_000)
  t.match(generated.json, { session_id: session, room_id: room.room_id })
  t.ok(Array.isArray(generated.body.segments) && generated.body.segments.length > 100, 'a real document with segments')
  t.throws(() => h.emu.setTranscription('session_nope', {}), /unknown session/)
})

t.test('generated transcriptions are valid JSON at any size', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const room = await createRoom(h)
  for (const bytes of [0, 10, 150, 151, 1000, 65_537, 300_001]) {
    const session = h.emu.addSession(room.room_id, { transcriptionBytes: bytes })
    const res = await h.call('GET', `/v2/sessions/${session}/transcription`)
    t.equal(res.status, 200)
    t.ok(res.json !== undefined, `${bytes} bytes: valid JSON`)
    t.equal(Number(res.headers['content-length']), Buffer.byteLength(res.text), `${bytes} bytes: content-length matches the body`)
    if (bytes >= 200) t.equal(Buffer.byteLength(res.text), bytes, `${bytes} bytes: exact size`)
  }
})

t.test('a 50 MB transcription is streamed', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const room = await createRoom(h)
  const session = h.emu.addSession(room.room_id, { transcriptionBytes: 50 * MB })
  const res = await request(`${h.emu.url}/v2/sessions/${session}/transcription`, { headers: { apikey: API_KEY } })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-length'], String(50 * MB))
  let received = 0
  let chunks = 0
  let biggest = 0
  let head = ''
  let tail = Buffer.alloc(0)
  for await (const chunk of res.body) {
    const buf = chunk as Buffer
    if (chunks === 0) head = buf.subarray(0, 40).toString()
    received += buf.length
    biggest = Math.max(biggest, buf.length)
    chunks++
    tail = Buffer.concat([tail, buf]).subarray(-16)
  }
  t.equal(received, 50 * MB, 'every byte arrives')
  t.ok(chunks > 100, `arrives in many chunks (${chunks}), not as one block`)
  t.ok(biggest <= 4 * MB, `no chunk is large (${biggest} bytes)`)
  t.match(head, /^\{"session_id":"session_/)
  t.match(tail.toString(), /"\}$/)
})

t.test('a 1 GB transcription is never materialised: headers come at once, the rest on demand', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const room = await createRoom(h)
  const bytes = 1024 * MB
  const session = h.emu.addSession(room.room_id, { transcriptionBytes: bytes })
  const rss = process.memoryUsage().rss
  const controller = new AbortController()
  const res = await request(`${h.emu.url}/v2/sessions/${session}/transcription`, { headers: { apikey: API_KEY }, signal: controller.signal })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-length'], String(bytes), 'content-length announces 1 GB')
  const reader = res.body[Symbol.asyncIterator]()
  const first = await reader.next()
  t.match(String(first.value), /^\{"session_id":/)
  controller.abort()
  await reader.return?.().catch(() => {})
  // A 1 GB string cannot even exist in V8 (max ~512 MB); a Buffer would show in rss.
  t.ok(process.memoryUsage().rss - rss < 256 * MB, `rss grew ${Math.round((process.memoryUsage().rss - rss) / MB)} MB`)
  const after = await h.obj('GET', '/v2/company')
  t.equal(after.status, 200, 'the emulator keeps serving after the client gave up')
})
