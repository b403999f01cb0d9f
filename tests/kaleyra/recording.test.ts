// GET /v2/sessions/{id}/recording: Kaleyra's temporary download link (answer fields and the
// expiry parameter are assumed; see docs/kaleyra.md), read by the client whatever form it takes.
import t from 'tap'
import { MockAgent } from 'undici'
import { createKaleyraClient } from '../../src/kaleyra/client.js'
import { KaleyraFormatError } from '../../src/kaleyra/errors.js'
import { startEmulator, UPSTREAM_TIMEOUT_MS, type Tap } from '../helpers/app.js'

const BASE = 'https://api.sandbox.eu.bandyer.com'
const PATH = '/v2/sessions/session_1/recording'

function mocked (t: Tap) {
  const agent = new MockAgent()
  agent.disableNetConnect()
  const client = createKaleyraClient({ baseUrl: BASE, apiKey: 'ak_test', timeoutMs: UPSTREAM_TIMEOUT_MS, dispatcher: agent, retryDelayMs: 1 })
  t.teardown(async () => { await client.close(); await agent.close() })
  return { pool: agent.get(BASE), client }
}

const within = (t: Tap, value: Date, from: number, to: number, what: string): void => {
  t.ok(value.getTime() >= from && value.getTime() <= to, `${what}: ${value.toISOString()} within [${new Date(from).toISOString()}, ${new Date(to).toISOString()}]`)
}

t.test('the link and its end, as Kaleyra gives them', async t => {
  const { pool, client } = mocked(t)
  pool.intercept({ path: `${PATH}?expires_in=300`, method: 'GET', headers: { apikey: 'ak_test' } })
    .reply(200, { url: 'https://files.example.com/r.mp4?sig=1', expires_at: '2030-01-01T00:05:00Z' })
  t.same(await client.getRecordingLink('session_1', 300), { url: 'https://files.example.com/r.mp4?sig=1', expiresAt: new Date('2030-01-01T00:05:00Z') })

  pool.intercept({ path: `${PATH}?expires_in=120`, method: 'GET' }).reply(200, { download_url: 'https://files.example.com/r.mp4', expires_in: 60 })
  let before = Date.now()
  let link = await client.getRecordingLink('session_1', 120)
  t.equal(link?.url, 'https://files.example.com/r.mp4', 'download_url is read too')
  within(t, link!.expiresAt, before + 60_000, Date.now() + 60_000, 'expires_in counts from the request')

  pool.intercept({ path: `${PATH}?expires_in=120`, method: 'GET' }).reply(200, { link: 'https://files.example.com/r.mp4' })
  before = Date.now()
  link = await client.getRecordingLink('session_1', 120)
  within(t, link!.expiresAt, before + 120_000, Date.now() + 120_000, 'no end in the answer: the validity asked for')
})

t.test('404 is "not ready"; an answer without an http(s) link is not understood (502)', async t => {
  const { pool, client } = mocked(t)
  pool.intercept({ path: `${PATH}?expires_in=300`, method: 'GET' }).reply(404, { error: 'not_found' })
  t.equal(await client.getRecordingLink('session_1', 300), null)
  for (const answer of [{ url: 'ftp://files.example.com/r.mp4' }, { expires_at: '2030-01-01T00:00:00Z' }, 'oops']) {
    pool.intercept({ path: `${PATH}?expires_in=300`, method: 'GET' }).reply(200, answer)
    const err = await client.getRecordingLink('session_1', 300).catch((e: unknown) => e)
    t.ok(err instanceof KaleyraFormatError, `${JSON.stringify(answer)} is refused`)
  }
})

t.test('an expiry parameter Kaleyra refuses is dropped, for good; the link then counts Kaleyra\'s 30 s minimum', async t => {
  const { pool, client } = mocked(t)
  pool.intercept({ path: `${PATH}?expires_in=300`, method: 'GET' }).reply(422, { error: 'validation_error' })
  pool.intercept({ path: PATH, method: 'GET' }).reply(200, { url: 'https://files.example.com/r.mp4' }).times(2)
  const before = Date.now()
  const link = await client.getRecordingLink('session_1', 300)
  within(t, link!.expiresAt, before + 30_000, Date.now() + 30_000, 'the documented minimum')
  t.equal((await client.getRecordingLink('session_1', 300))?.url, 'https://files.example.com/r.mp4', 'asked without the parameter at once')
})

t.test('against the emulator: a link valid for the seconds asked, served by the file origin until then', async t => {
  const emulator = await startEmulator(t)
  const client = createKaleyraClient({ baseUrl: emulator.url, apiKey: emulator.apiKey, timeoutMs: UPSTREAM_TIMEOUT_MS })
  t.teardown(() => client.close())
  await client.createUser('doc', 'plus')
  await client.createUser('pat', 'basic')
  const room = await client.createRoom({ participants: [{ user_id: 'doc', is_admin: true }, { user_id: 'pat', is_admin: false }], recording: 'manual' })
  const sessionId = emulator.addSession(room.roomId)
  t.equal(await client.getRecordingLink(sessionId, 60), null, 'not processed yet')
  t.equal(await client.getRecordingLink('session_unknown', 60), null, 'unknown session')

  emulator.setRecordingReady(sessionId)
  const before = Date.now()
  const link = await client.getRecordingLink(sessionId, 60)
  t.ok(link?.url.startsWith(`${emulator.filesUrl}/files/`), 'a link on the file origin')
  within(t, link!.expiresAt, before + 60_000 - 1_000, Date.now() + 60_000 + 1_000, 'valid for the seconds asked')
  t.match(emulator.requests().filter(r => r.path === `/v2/sessions/${sessionId}/recording`).map(r => r.query), [{ expires_in: '60' }, { expires_in: '60' }])

  const file = await fetch(link!.url)
  t.equal(file.status, 200)
  t.equal(file.headers.get('content-type'), 'video/mp4')
  t.match(Buffer.from(await file.arrayBuffer()).toString('latin1'), new RegExp(`ftypisom.*${sessionId}`))
  emulator.advanceClock(61_000)
  t.equal((await fetch(link!.url)).status, 403, 'expired')

  for (const seconds of [29, 3601]) {
    const refused = await fetch(`${emulator.url}/v2/sessions/${sessionId}/recording?expires_in=${seconds}`, { headers: { apikey: emulator.apiKey } })
    t.equal(refused.status, 422, `expires_in=${seconds} is outside Kaleyra's 30–3600`)
  }
  const unrecorded = await client.createRoom({ participants: [{ user_id: 'doc', is_admin: true }, { user_id: 'pat', is_admin: false }], recording: 'none' })
  t.throws(() => emulator.setRecordingReady(emulator.addSession(unrecorded.roomId)), TypeError, 'a room that does not record never has a recording')
})
