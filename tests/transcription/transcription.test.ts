import t from 'tap'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eachStore, KALEYRA_FAULT_TIMEOUT, setup, startEmulator } from '../helpers/app.js'
import { as, body, doctor } from '../helpers/fixtures.js'
import { startKaleyraProxy } from '../helpers/kaleyra-proxy.js'

const MB = 1024 * 1024
const RECORDED = { DEFAULT_RECORDING_TYPE: 'automatic' }
const transcriptionPath = /^\/v2\/sessions\/[^/]+\/transcription/

type App = Awaited<ReturnType<typeof setup>>['app']

async function createTeleconsultation (app: App, payload = body()): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload })
  if (res.statusCode !== 201) throw new Error(`create answered ${res.statusCode}: ${res.body}`)
  return res.json().roomId
}

async function get (app: App, id: string, sessionId: string, user = 'patient-1') {
  return await app.inject({ method: 'GET', url: `/transcription/${id}/${sessionId}`, headers: as(user) })
}

eachStore(t, 'rooms are recorded with offline transcription only when DEFAULT_RECORDING_TYPE is not none', async (t, store) => {
  for (const recording of ['none', 'manual', 'automatic']) {
    const { app, emulator } = await setup(t, { store, env: { DEFAULT_RECORDING_TYPE: recording } })
    await createTeleconsultation(app)
    const [room] = emulator.liveRooms()
    t.equal(room.recording, recording)
    t.equal(room.offlineTranscription, recording !== 'none', `offline transcription with recording ${recording}`)
  }
})

eachStore(t, 'a participant gets the transcription of a session of their room, as Kaleyra sent it', async (t, store) => {
  const { app, emulator } = await setup(t, { store, env: RECORDED })
  const id = await createTeleconsultation(app)
  const document = { language: 'it', segments: [{ speaker: 'doctor', text: 'Buongiorno', start: 1.5 }, { speaker: 'patient', text: 'Salve' }] }
  const sessionId = emulator.addSession(emulator.liveRooms()[0].roomId, { transcription: document })
  const res = await get(app, id, sessionId)
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  t.equal(res.body, JSON.stringify(document), 'byte for byte')
  t.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body))
})

eachStore(t, 'who may ask, and for what', async (t, store) => {
  const { app, emulator } = await setup(t, { store, env: RECORDED })
  const id = await createTeleconsultation(app)
  const otherId = await createTeleconsultation(app, body({ participants: [doctor('doctor-2'), { userId: 'p2', groups: ['patient'], fullName: 'P 2' }] }))
  const [room, otherRoom] = emulator.liveRooms()
  const sessionId = emulator.addSession(room.roomId, { transcription: { segments: [] } })
  const foreign = emulator.addSession(otherRoom.roomId, { transcription: { secret: true } })

  for (const headers of [as('someone-else'), {}]) {
    const res = await app.inject({ method: 'GET', url: `/transcription/${id}/${sessionId}`, headers })
    t.equal(res.statusCode, 401)
    t.same(res.json(), { error: 'Unauthorized user' })
  }
  const missing = await get(app, '0123456789abcdef01234567', sessionId)
  t.equal(missing.statusCode, 404)
  t.same(missing.json(), { error: 'Room with id 0123456789abcdef01234567 not found on CRUD' })

  const other = await get(app, id, foreign)
  t.equal(other.statusCode, 404, 'a session of another teleconsultation is not reachable through this one')
  t.same(other.json(), { error: `Session ${foreign} not found in teleconsultation ${id}` })
  t.equal((await get(app, otherId, foreign, 'p2')).statusCode, 200, 'its own participants get it')

  const unknown = await get(app, id, 'session_doesnotexist')
  t.equal(unknown.statusCode, 404)
  t.equal(emulator.requests().filter(r => r.path === '/v2/sessions/session_doesnotexist/transcription').length, 0, 'never asked for')

  const badSession = await get(app, id, 'not a session')
  t.equal(badSession.statusCode, 400)
  t.match(badSession.json().message, /params\.sessionId/)

  const waiting = await createTeleconsultation(app, body({ participants: [{ userId: 'patient-1', groups: ['patient'], fullName: 'P' }], number: 2 }))
  const noRoom = await get(app, waiting, sessionId)
  t.equal(noRoom.statusCode, 404, 'no room yet, no session')
})

eachStore(t, 'recording disabled: 409', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  const id = await createTeleconsultation(app)
  const sessionId = emulator.addSession(emulator.liveRooms()[0].roomId, { transcription: { segments: [] } })
  const res = await get(app, id, sessionId)
  t.equal(res.statusCode, 409)
  t.same(res.json(), { error: 'Transcription not available: recording is disabled' })
  t.equal((await get(app, id, sessionId, 'stranger')).statusCode, 401, 'strangers learn nothing more')
})

eachStore(t, 'not ready yet: 404, then 200 once Kaleyra has it', async (t, store) => {
  const { app, emulator } = await setup(t, { store, env: RECORDED })
  const id = await createTeleconsultation(app)
  const sessionId = emulator.addSession(emulator.liveRooms()[0].roomId, { ended: false })
  const early = await get(app, id, sessionId)
  t.equal(early.statusCode, 404)
  t.same(early.json(), { error: 'Transcription not available yet' })
  emulator.setTranscription(sessionId, { segments: [{ text: 'ok' }] })
  t.equal((await get(app, id, sessionId)).statusCode, 200)
})

eachStore(t, 'TRANSCRIPTION_MAX_FILE_SIZE with a content-length: refused before reading, up to the cap served', async (t, store) => {
  const emulator = await startEmulator(t)
  const proxy = await startKaleyraProxy(emulator.url)
  t.teardown(() => proxy.close())
  const { app } = await setup(t, { store, emulator, env: { ...RECORDED, TRANSCRIPTION_MAX_FILE_SIZE: '1MB', BANDYER_BASE_URL: proxy.url } })
  const id = await createTeleconsultation(app)
  const roomId = emulator.liveRooms()[0].roomId

  const atCap = emulator.addSession(roomId, { transcriptionBytes: MB })
  const served = await get(app, id, atCap)
  t.equal(served.statusCode, 200)
  t.equal(served.rawPayload.length, MB)
  t.same(Object.keys(served.json()), ['session_id', 'room_id', 'language', 'segments', 'padding'])

  const huge = emulator.addSession(roomId, { transcriptionBytes: 1024 * MB })
  const before = proxy.responseBytes(transcriptionPath)
  const refused = await get(app, id, huge)
  t.equal(refused.statusCode, 413)
  t.same(refused.json(), { error: 'Transcription too large: more than TRANSCRIPTION_MAX_FILE_SIZE (1MB)' })
  const read = proxy.responseBytes(transcriptionPath) - before
  t.ok(read < 16 * MB, `aborted without reading 1 GB (${(read / MB).toFixed(1)} MB crossed)`)
})

eachStore(t, 'TRANSCRIPTION_MAX_FILE_SIZE without a content-length: read up to the cap, never beyond', async (t, store) => {
  const emulator = await startEmulator(t)
  const proxy = await startKaleyraProxy(emulator.url, { chunkedPaths: transcriptionPath })
  t.teardown(() => proxy.close())
  const { app } = await setup(t, { store, emulator, env: { ...RECORDED, TRANSCRIPTION_MAX_FILE_SIZE: '2MB', BANDYER_BASE_URL: proxy.url } })
  const id = await createTeleconsultation(app)
  const roomId = emulator.liveRooms()[0].roomId

  const small = emulator.addSession(roomId, { transcriptionBytes: 300_000 })
  const served = await get(app, id, small)
  t.equal(served.statusCode, 200)
  t.equal(Number(served.headers['content-length']), 300_000)
  t.equal(served.json().session_id, small)

  const huge = emulator.addSession(roomId, { transcriptionBytes: 1024 * MB })
  const heapBefore = process.memoryUsage().arrayBuffers
  const before = proxy.responseBytes(transcriptionPath)
  const refused = await get(app, id, huge)
  t.equal(refused.statusCode, 413)
  const read = proxy.responseBytes(transcriptionPath) - before
  t.ok(read < 64 * MB, `stopped soon after the cap (${(read / MB).toFixed(1)} MB crossed of 1024)`)
  const grown = process.memoryUsage().arrayBuffers - heapBefore
  t.ok(grown < 128 * MB, `memory stays flat (${(grown / MB).toFixed(1)} MB)`)
})

eachStore(t, 'Kaleyra failing: 502, or 504 when it does not answer', async (t, store) => {
  const { app, emulator } = await setup(t, { store, env: { ...RECORDED, ...KALEYRA_FAULT_TIMEOUT } })
  const id = await createTeleconsultation(app)
  const sessionId = emulator.addSession(emulator.liveRooms()[0].roomId, { transcription: { segments: [] } })

  emulator.faults.add({ method: 'GET', path: '/v2/sessions', kind: 'status', status: 500 })
  const listFailed = await get(app, id, sessionId)
  t.equal(listFailed.statusCode, 502)
  t.same(listFailed.json(), { error: 'Kaleyra service error' })
  emulator.faults.clear()

  emulator.faults.add({ method: 'GET', path: `/v2/sessions/${sessionId}/transcription`, kind: 'status', status: 503 })
  t.equal((await get(app, id, sessionId)).statusCode, 502)
  emulator.faults.clear()

  emulator.faults.add({ method: 'GET', path: `/v2/sessions/${sessionId}/transcription`, kind: 'hang', times: 1 })
  const slow = await get(app, id, sessionId)
  t.equal(slow.statusCode, 504)
  t.same(slow.json(), { error: 'Kaleyra service timeout' })

  emulator.faults.add({ method: 'GET', path: `/v2/sessions/${sessionId}/transcription`, kind: 'status', status: 401 })
  t.equal((await get(app, id, sessionId)).statusCode, 502, 'an unexpected refusal is Kaleyra\'s problem, not the caller\'s')
  emulator.faults.clear()
  t.equal((await get(app, id, sessionId)).statusCode, 200)
})

t.test('without a content-length, beyond TRANSCRIPTION_MEMORY_BUDGET: held in a temporary file (removed), 413 kept; no room there either: 503 with Retry-After', async t => {
  const emulator = await startEmulator(t)
  const proxy = await startKaleyraProxy(emulator.url, { chunkedPaths: transcriptionPath })
  t.teardown(() => proxy.close())
  const spoolDir = mkdtempSync(join(tmpdir(), 'tcs-spool-test-'))
  t.teardown(() => rmSync(spoolDir, { recursive: true, force: true }))
  const env = { ...RECORDED, TRANSCRIPTION_MAX_FILE_SIZE: '2MB', TRANSCRIPTION_MEMORY_BUDGET: '64KB', BANDYER_BASE_URL: proxy.url }
  const { app, stores } = await setup(t, { emulator, env, overrides: { transcriptionSpoolDirectory: spoolDir } })
  const id = await createTeleconsultation(app)
  const roomId = emulator.liveRooms()[0].roomId

  const spooled = emulator.addSession(roomId, { transcriptionBytes: MB })
  const served = await get(app, id, spooled)
  t.equal(served.statusCode, 200)
  t.equal(Number(served.headers['content-length']), MB)
  t.equal(served.rawPayload.length, MB)
  t.equal(served.json().session_id, spooled, 'the document, whole')
  const tooLarge = await get(app, id, emulator.addSession(roomId, { transcriptionBytes: 3 * MB }))
  t.equal(tooLarge.statusCode, 413)
  t.same(readdirSync(spoolDir), [], 'no temporary file left')

  const { app: noRoom, logs } = await setup(t, { emulator, env, stores, overrides: { transcriptionSpoolDirectory: join(spoolDir, 'missing') } })
  const refused = await get(noRoom, id, spooled)
  t.equal(refused.statusCode, 503)
  t.equal(refused.headers['retry-after'], '10')
  t.same(refused.json(), { error: 'Transcription temporarily unavailable, retry later' })
  t.ok(logs.records().some(r => r.msg === 'transcription without content-length: no room for it in memory nor in the temporary directory'), 'logged')
  const small = emulator.addSession(roomId, { transcriptionBytes: 30_000 })
  t.equal((await get(noRoom, id, small)).statusCode, 200, 'one within the memory budget is still served')
})
