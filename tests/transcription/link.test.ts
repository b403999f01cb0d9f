// Transcriptions Kaleyra gives as a temporary link (as it gives recordings and uploads), and
// OFFLINE_TRANSCRIPTION for companies without Kaleyra's transcription feature.
import t from 'tap'
import { MockAgent } from 'undici'
import { createKaleyraClient } from '../../src/kaleyra/client.js'
import { KaleyraRejectedError } from '../../src/kaleyra/errors.js'
import { setup, startEmulator, UPSTREAM_TIMEOUT_MS } from '../helpers/app.js'
import { as, body } from '../helpers/fixtures.js'

const MB = 1024 * 1024
const RECORDED = { DEFAULT_RECORDING_TYPE: 'automatic' }

type App = Awaited<ReturnType<typeof setup>>['app']

async function createTeleconsultation (app: App): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  if (res.statusCode !== 201) throw new Error(`create answered ${res.statusCode}: ${res.body}`)
  return res.json().roomId
}

async function get (app: App, id: string, sessionId: string) {
  return await app.inject({ method: 'GET', url: `/transcription/${id}/${sessionId}`, headers: as('patient-1') })
}

t.test('a transcription given as a link is fetched from its host and streamed byte for byte; that host never sees the apikey', async t => {
  const emulator = await startEmulator(t, { transcriptionDelivery: 'link' })
  const { app } = await setup(t, { emulator, env: RECORDED })
  const id = await createTeleconsultation(app)
  const document = { language: 'it', segments: [{ speaker: 'doctor', text: 'Buongiorno', start: 1.5 }], url: 'not a link: part of the document' }
  const sessionId = emulator.addSession(emulator.liveRooms()[0].roomId, { transcription: document })
  const res = await get(app, id, sessionId)
  t.equal(res.statusCode, 200)
  t.equal(res.body, JSON.stringify(document), 'byte for byte')
  t.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body))

  const files = emulator.fileRequests()
  t.equal(files.length, 1, 'the link was followed once')
  t.notOk('apikey' in files[0].headers, 'no apikey to the link\'s host')
  t.notOk(JSON.stringify(files).includes(emulator.apiKey))
})

for (const chunkedFiles of [false, true]) {
  const how = chunkedFiles ? 'without a content-length' : 'with a content-length'
  t.test(`a linked transcription ${how} is capped by TRANSCRIPTION_MAX_FILE_SIZE`, async t => {
    const emulator = await startEmulator(t, { transcriptionDelivery: 'link', chunkedFiles })
    const { app } = await setup(t, { emulator, env: { ...RECORDED, TRANSCRIPTION_MAX_FILE_SIZE: '2MB' } })
    const id = await createTeleconsultation(app)
    const roomId = emulator.liveRooms()[0].roomId

    const fits = emulator.addSession(roomId, { transcriptionBytes: 2 * MB })
    const served = await get(app, id, fits)
    t.equal(served.statusCode, 200)
    t.equal(served.rawPayload.length, 2 * MB)
    t.equal(served.json().session_id, fits)

    const huge = emulator.addSession(roomId, { transcriptionBytes: 1024 * MB })
    const refused = await get(app, id, huge)
    t.equal(refused.statusCode, 413)
    t.same(refused.json(), { error: 'Transcription too large: more than TRANSCRIPTION_MAX_FILE_SIZE (2MB)' })
    const sent = emulator.fileRequests().at(-1)?.bytes ?? Infinity
    t.ok(sent < 64 * MB, `the download stopped (${(sent / MB).toFixed(1)} MB of 1024 produced)`)
  })
}

t.test('what the client takes for a link, and where the apikey goes', async t => {
  const agent = new MockAgent()
  agent.disableNetConnect()
  t.teardown(() => agent.close())
  const kaleyra = agent.get('https://api.example.bandyer.com')
  const storage = agent.get('https://storage.example.net')
  const client = createKaleyraClient({ baseUrl: 'https://api.example.bandyer.com/v2', apiKey: 'ak_secret', timeoutMs: UPSTREAM_TIMEOUT_MS, dispatcher: agent, retries: 0 })
  const read = async (sessionId: string): Promise<string> => {
    const download = await client.openTranscription(sessionId)
    return Buffer.concat(await download?.body.toArray() ?? []).toString()
  }
  const noApikey = (headers: Record<string, string>) => !('apikey' in headers)

  kaleyra.intercept({ path: '/v2/sessions/s1/transcription', method: 'GET', headers: { apikey: 'ak_secret' } }).reply(200, { link: 'https://storage.example.net/t/1?sig=abc' })
  storage.intercept({ path: '/t/1?sig=abc', method: 'GET', headers: noApikey }).reply(200, '{"segments":[1]}')
  t.equal(await read('s1'), '{"segments":[1]}', '`link`, on another origin: no apikey')

  kaleyra.intercept({ path: '/v2/sessions/s2/transcription', method: 'GET' }).reply(200, { download_url: 'https://api.example.bandyer.com/files/2', expires_in: 60 })
  kaleyra.intercept({ path: '/files/2', method: 'GET', headers: { apikey: 'ak_secret' } }).reply(200, '{"segments":[2]}')
  t.equal(await read('s2'), '{"segments":[2]}', '`download_url` on Kaleyra\'s own origin: with the apikey')

  kaleyra.intercept({ path: '/v2/sessions/s3/transcription', method: 'GET' }).reply(200, { url: 'ftp://storage.example.net/3' })
  t.equal(await read('s3'), '{"url":"ftp://storage.example.net/3"}', 'not an http(s) URL: the document itself')
  kaleyra.intercept({ path: '/v2/sessions/s7/transcription', method: 'GET' }).reply(200, { url: 'https://storage.example.net/7', segments: [] })
  t.equal(await read('s7'), '{"url":"https://storage.example.net/7","segments":[]}', 'an object with lists in it is a document, not a link')

  const large = JSON.stringify({ url: 'https://storage.example.net/never', segments: 'x'.repeat(20_000) })
  kaleyra.intercept({ path: '/v2/sessions/s4/transcription', method: 'GET' }).reply(200, large)
  t.equal(await read('s4'), large, 'a large answer is the document, even with a url in it')
  kaleyra.intercept({ path: '/v2/sessions/s5/transcription', method: 'GET' }).reply(200, large, { headers: { 'content-length': String(large.length) } })
  t.equal(await read('s5'), large, 'also when its size is announced')

  kaleyra.intercept({ path: '/v2/sessions/s6/transcription', method: 'GET' }).reply(200, { url: 'https://storage.example.net/expired' })
  storage.intercept({ path: '/expired', method: 'GET' }).reply(403, '<Error>expired</Error>')
  const expired = await client.openTranscription('s6').catch((e: unknown) => e)
  t.ok(expired instanceof KaleyraRejectedError)
  t.equal((expired as KaleyraRejectedError).operation, 'getTranscriptionFile')
  agent.assertNoPendingInterceptors()
})

t.test('OFFLINE_TRANSCRIPTION=false: recorded rooms without transcription, accepted by a company that refuses transcription; the route answers 409', async t => {
  const emulator = await startEmulator(t, { offlineTranscription: false })
  const { app } = await setup(t, { emulator, env: { ...RECORDED, OFFLINE_TRANSCRIPTION: 'false' } })
  const id = await createTeleconsultation(app)
  const [room] = emulator.liveRooms()
  t.equal(room.recording, 'automatic', 'recorded')
  t.equal(room.offlineTranscription, false, 'without transcription')
  const sessionId = emulator.addSession(room.roomId, { transcription: { segments: [] } })
  const res = await get(app, id, sessionId)
  t.equal(res.statusCode, 409)
  t.same(res.json(), { error: 'Transcription not available: transcription is disabled' })
  t.equal(emulator.requests().filter(r => r.path.startsWith('/v2/sessions')).length, 0, 'Kaleyra is not asked')
})

t.test('the default keeps 2.1: recorded rooms ask for transcription, so a company without it refuses them', async t => {
  const emulator = await startEmulator(t, { offlineTranscription: false })
  const { app } = await setup(t, { emulator, env: RECORDED })
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  t.equal(res.statusCode, 502)
  t.equal(emulator.requests().find(r => r.method === 'POST' && r.path === '/v2/rooms')?.status, 400)
  t.equal(emulator.liveRooms().length, 0)

  const { app: withIt, emulator: company } = await setup(t, { env: RECORDED })
  await createTeleconsultation(withIt)
  t.equal(company.liveRooms()[0].offlineTranscription, true, 'a company with transcription gets it, as in 2.1')
  const { app: unrecorded, emulator: other } = await setup(t, { env: { OFFLINE_TRANSCRIPTION: 'true' } })
  await createTeleconsultation(unrecorded)
  t.equal(other.liveRooms()[0].offlineTranscription, false, 'never without recording')
})
