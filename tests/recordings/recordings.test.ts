// GET /recording/:roomId/:sessionId (Kaleyra's temporary link, never the file) and
// GET /teleconsultation/:id/sessions, against the Kaleyra emulator on 127.0.0.1.
import t from 'tap'
import { eachStore, KALEYRA_FAULT_TIMEOUT, setup } from '../helpers/app.js'
import { as, body, doctor } from '../helpers/fixtures.js'

const RECORDED = { DEFAULT_RECORDING_TYPE: 'automatic' }

type Ctx = Awaited<ReturnType<typeof setup>>

async function createTeleconsultation (ctx: Ctx, payload = body(), prefix = ''): Promise<{ id: string, roomId: string }> {
  const res = await ctx.app.inject({ method: 'POST', url: `${prefix}/teleconsultation`, payload })
  if (res.statusCode !== 201) throw new Error(`create answered ${res.statusCode}: ${res.body}`)
  const id: string = res.json().roomId
  return { id, roomId: (await ctx.stores.teleconsultations.get(id))?.bandyerRoomId ?? '' }
}

async function recording (ctx: Ctx, id: string, sessionId: string, user = 'patient-1', prefix = '') {
  return await ctx.app.inject({ method: 'GET', url: `${prefix}/recording/${id}/${sessionId}`, headers: as(user) })
}

async function sessions (ctx: Ctx, id: string, user = 'patient-1', prefix = '') {
  return await ctx.app.inject({ method: 'GET', url: `${prefix}/teleconsultation/${id}/sessions`, headers: as(user) })
}

const recordingCalls = (ctx: Ctx) => ctx.emulator.requests().filter(r => /^\/v2\/sessions\/[^/]+\/recording$/.test(r.path))

eachStore(t, 'a participant gets Kaleyra\'s temporary link to a recording, valid RECORDING_LINK_TTL_S; it serves the file until it expires', async (t, store) => {
  const ctx = await setup(t, { store, env: { ...RECORDED, RECORDING_LINK_TTL_S: '120' } })
  const { id, roomId } = await createTeleconsultation(ctx)
  const sessionId = ctx.emulator.addSession(roomId)
  ctx.emulator.setRecordingReady(sessionId)

  const before = Date.now()
  const res = await recording(ctx, id, sessionId)
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store', 'a bearer link is not cached')
  const link = res.json()
  t.same(Object.keys(link).sort(), ['expiresAt', 'url'])
  t.ok(link.url.startsWith(`${ctx.emulator.filesUrl}/files/`), 'Kaleyra\'s link, not a route of ours')
  t.match(link.expiresAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'RFC 3339')
  const expiresAt = Date.parse(link.expiresAt)
  t.ok(expiresAt >= before + 119_000 && expiresAt <= Date.now() + 121_000, `valid 120 s (${link.expiresAt})`)
  t.match(recordingCalls(ctx).map(r => r.query), [{ expires_in: '120' }], 'asked for that validity')
  t.notOk(res.body.includes('ftyp'), 'never the file itself')
  t.notOk(ctx.logs.lines.some(line => line.includes(new URL(link.url).pathname)), 'the link is never logged')

  const file = await fetch(link.url)
  t.equal(file.status, 200)
  t.equal(file.headers.get('content-type'), 'video/mp4')
  await file.arrayBuffer()
  ctx.emulator.advanceClock(121_000)
  t.equal((await fetch(link.url)).status, 403, 'not after it expired')
  const again = await recording(ctx, id, sessionId, 'doctor-1')
  t.equal(again.statusCode, 200, 'a new link is asked for each time')
  t.not(again.json().url, link.url)
})

eachStore(t, 'who may ask, and for what (the transcription route\'s rules)', async (t, store) => {
  const ctx = await setup(t, { store, env: RECORDED })
  const { id, roomId } = await createTeleconsultation(ctx)
  const other = await createTeleconsultation(ctx, body({ participants: [doctor('doctor-2'), { userId: 'p2', groups: ['patient'], fullName: 'P 2' }] }))
  const sessionId = ctx.emulator.addSession(roomId)
  ctx.emulator.setRecordingReady(sessionId)
  const foreign = ctx.emulator.addSession(other.roomId)
  ctx.emulator.setRecordingReady(foreign)

  for (const headers of [as('someone-else'), {}]) {
    const res = await ctx.app.inject({ method: 'GET', url: `/recording/${id}/${sessionId}`, headers })
    t.equal(res.statusCode, 401)
    t.same(res.json(), { error: 'Unauthorized user' })
  }
  const missing = await recording(ctx, '0123456789abcdef01234567', sessionId)
  t.equal(missing.statusCode, 404)
  t.same(missing.json(), { error: 'Room with id 0123456789abcdef01234567 not found on CRUD' })

  const crossed = await recording(ctx, id, foreign)
  t.equal(crossed.statusCode, 404, 'a session of another teleconsultation is not reachable through this one')
  t.same(crossed.json(), { error: `Session ${foreign} not found in teleconsultation ${id}` })
  t.equal((await recording(ctx, other.id, foreign, 'p2')).statusCode, 200, 'its own participants get it')

  const unknown = await recording(ctx, id, 'session_doesnotexist')
  t.equal(unknown.statusCode, 404)
  t.equal(ctx.emulator.requests().filter(r => r.path === '/v2/sessions/session_doesnotexist/recording').length, 0, 'never asked for')

  const bad = await recording(ctx, id, 'not a session')
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /params\.sessionId/)

  const waiting = await createTeleconsultation(ctx, body({ participants: [{ userId: 'patient-1', groups: ['patient'], fullName: 'P' }], number: 2 }))
  const noRoom = await recording(ctx, waiting.id, sessionId)
  t.equal(noRoom.statusCode, 404, 'no room yet, no session')
  t.same(noRoom.json(), { error: `Session ${sessionId} not found in teleconsultation ${waiting.id}` })
})

eachStore(t, 'recording disabled (DEFAULT_RECORDING_TYPE=none): 409, and Kaleyra is not asked', async (t, store) => {
  const ctx = await setup(t, { store })
  const { id, roomId } = await createTeleconsultation(ctx)
  const sessionId = ctx.emulator.addSession(roomId)
  const res = await recording(ctx, id, sessionId)
  t.equal(res.statusCode, 409)
  t.same(res.json(), { error: 'Recording not available: recording is disabled' })
  t.equal((await recording(ctx, id, sessionId, 'stranger')).statusCode, 401, 'strangers learn nothing more')
  t.same(recordingCalls(ctx), [])
})

eachStore(t, 'not ready yet: 404, then the link once Kaleyra has it', async (t, store) => {
  const ctx = await setup(t, { store, env: RECORDED })
  const { id, roomId } = await createTeleconsultation(ctx)
  const sessionId = ctx.emulator.addSession(roomId, { ended: false })
  const early = await recording(ctx, id, sessionId)
  t.equal(early.statusCode, 404)
  t.same(early.json(), { error: 'Recording not available yet' })
  ctx.emulator.setRecordingReady(sessionId)
  t.equal((await recording(ctx, id, sessionId)).statusCode, 200)
})

t.test('Kaleyra failing: 502, 503 on its rate limit, 504 when it does not answer; nothing of its answer leaks', async t => {
  const ctx = await setup(t, { env: { ...RECORDED, ...KALEYRA_FAULT_TIMEOUT } })
  const { id, roomId } = await createTeleconsultation(ctx)
  const sessionId = ctx.emulator.addSession(roomId)
  ctx.emulator.setRecordingReady(sessionId)
  const path = `/v2/sessions/${sessionId}/recording`

  ctx.emulator.faults.add({ method: 'GET', path: '/v2/sessions', kind: 'status', status: 500 })
  const listFailed = await recording(ctx, id, sessionId)
  t.equal(listFailed.statusCode, 502)
  t.same(listFailed.json(), { error: 'Kaleyra service error' })
  ctx.emulator.faults.clear()

  ctx.emulator.faults.add({ method: 'GET', path, kind: 'status', status: 500 })
  t.same((await recording(ctx, id, sessionId)).json(), { error: 'Kaleyra service error' })
  ctx.emulator.faults.clear()

  ctx.emulator.faults.add({ method: 'GET', path, kind: 'status', status: 429, retryAfter: 120 })
  const limited = await recording(ctx, id, sessionId)
  t.equal(limited.statusCode, 503)
  t.same(limited.json(), { error: 'Kaleyra service unavailable' })
  ctx.emulator.faults.clear()

  ctx.emulator.faults.add({ method: 'GET', path, kind: 'hang', times: 1 })
  const slow = await recording(ctx, id, sessionId)
  t.equal(slow.statusCode, 504)
  t.same(slow.json(), { error: 'Kaleyra service timeout' })

  ctx.emulator.faults.add({ method: 'GET', path, kind: 'status', status: 401 })
  t.equal((await recording(ctx, id, sessionId)).statusCode, 502, 'an unexpected refusal is Kaleyra\'s problem, not the caller\'s')
  ctx.emulator.faults.clear()
  t.equal((await recording(ctx, id, sessionId)).statusCode, 200)
  t.notOk(ctx.logs.lines.join('\n').includes(ctx.emulator.apiKey), 'the API key is never logged')
})

eachStore(t, 'GET /teleconsultation/:id/sessions: the room\'s sessions with start and end; without webhooks, availability is not known', async (t, store) => {
  const ctx = await setup(t, { store, env: RECORDED })
  const { id, roomId } = await createTeleconsultation(ctx)
  t.same((await sessions(ctx, id)).json(), { sessions: [] }, 'no call yet')
  const first = ctx.emulator.addSession(roomId)
  const running = ctx.emulator.addSession(roomId, { ended: false })
  const other = await createTeleconsultation(ctx, body({ participants: [doctor('doctor-2'), { userId: 'p2', groups: ['patient'], fullName: 'P 2' }] }))
  ctx.emulator.addSession(other.roomId)

  const res = await sessions(ctx, id, 'doctor-1')
  t.equal(res.statusCode, 200)
  const listed = res.json().sessions
  t.same(listed.map((s: { sessionId: string }) => s.sessionId), [first, running], 'its own room\'s sessions only')
  t.match(listed[0], { startDate: /^\d{4}-/, endDate: /^\d{4}-/, recording: null, transcription: null })
  t.match(listed[1], { endDate: null, recording: null, transcription: null })

  for (const headers of [as('someone-else'), {}]) {
    const refused = await ctx.app.inject({ method: 'GET', url: `/teleconsultation/${id}/sessions`, headers })
    t.equal(refused.statusCode, 401)
    t.same(refused.json(), { error: 'Unauthorized user' })
  }
  const missing = await sessions(ctx, '0123456789abcdef01234567')
  t.equal(missing.statusCode, 404)
  t.same(missing.json(), { error: 'Room with id 0123456789abcdef01234567 not found on CRUD' })
  t.equal((await sessions(ctx, 'not%20an%20id')).statusCode, 400)

  ctx.emulator.faults.add({ method: 'GET', path: '/v2/sessions', kind: 'status', status: 500 })
  const failed = await sessions(ctx, id)
  t.equal(failed.statusCode, 502)
  t.same(failed.json(), { error: 'Kaleyra service error' })
})

t.test('sessions of a service that does not record, or does not transcribe: false, not unknown', async t => {
  for (const [env, expected] of [
    [{}, { recording: false, transcription: false }],
    [{ ...RECORDED, OFFLINE_TRANSCRIPTION: 'false' }, { recording: null, transcription: false }]
  ] as const) {
    const ctx = await setup(t, { env })
    const { id, roomId } = await createTeleconsultation(ctx)
    ctx.emulator.addSession(roomId)
    t.match((await sessions(ctx, id)).json().sessions, [expected], JSON.stringify(env))
  }
})

eachStore(t, 'with the emulator sending webhooks: a recording made ready appears in the sessions list and GET /recording answers a link', async (t, store) => {
  const prefix = '/api'
  const ctx = await setup(t, { store, env: { ...RECORDED, KALEYRA_WEBHOOKS: 'true', SERVICE_PREFIX: prefix } })
  const address = await ctx.app.listen({ host: '127.0.0.1', port: 0 })
  ctx.emulator.setWebhookUrl(`${address}${prefix}/webhooks/kaleyra`)
  const { id, roomId } = await createTeleconsultation(ctx, body(), prefix)
  const sessionId = ctx.emulator.addSession(roomId)

  t.match((await sessions(ctx, id, 'patient-1', prefix)).json(), { sessions: [{ sessionId, recording: false, transcription: false }] })
  const early = await recording(ctx, id, sessionId, 'patient-1', prefix)
  t.equal(early.statusCode, 404)
  t.same(early.json(), { error: 'Recording not available yet' })
  t.same(recordingCalls(ctx), [], 'Kaleyra is not asked before it said the recording is ready')

  ctx.emulator.setRecordingReady(sessionId)
  ctx.emulator.setTranscription(sessionId, { segments: [] })
  t.same(await ctx.emulator.webhookDeliveries(), [{ event: 'on_recording_available', status: 200 }, { event: 'on_transcription_available', status: 200 }])
  await ctx.services.webhooks?.idle()

  t.match((await sessions(ctx, id, 'doctor-1', prefix)).json(), { sessions: [{ sessionId, recording: true, transcription: true }] })
  const res = await recording(ctx, id, sessionId, 'patient-1', prefix)
  t.equal(res.statusCode, 200)
  const file = await fetch(res.json().url)
  t.equal(file.status, 200)
  t.equal(file.headers.get('content-type'), 'video/mp4')
  await file.arrayBuffer()
  t.equal((await ctx.app.inject({ method: 'GET', url: `/recording/${id}/${sessionId}`, headers: as('patient-1') })).statusCode, 404, 'only under SERVICE_PREFIX')
})

t.test('a 2.1 configuration: no call to Kaleyra for recordings or sessions unless a caller asks', async t => {
  const ctx = await setup(t)
  const { id } = await createTeleconsultation(ctx)
  await ctx.app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('patient-1') })
  await ctx.app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: {} })
  t.same(ctx.emulator.requests().filter(r => r.path.startsWith('/v2/sessions')), [])
})

t.test('after the slot ended and its room was closed (ROOM_CLOSE_AFTER_END_MS), the call\'s recordings stay reachable', async t => {
  const ctx = await setup(t, { env: { ...RECORDED, KALEYRA_WEBHOOKS: 'true', ROOM_CLOSE_AFTER_END_MS: '0' }, overrides: { closer: { intervalMs: 0 } } })
  const address = await ctx.app.listen({ host: '127.0.0.1', port: 0 })
  ctx.emulator.setWebhookUrl(`${address}/webhooks/kaleyra`)
  const { id, roomId } = await createTeleconsultation(ctx, body({ start: '2020-01-01T10:00:00.000Z', end: '2020-01-01T10:30:00.000Z' }))
  const sessionId = ctx.emulator.addSession(roomId)
  t.equal(await ctx.services.closer?.tick(), 1)
  await ctx.services.reaper.idle()
  t.same(ctx.emulator.liveRooms(), [], 'the room is deleted')

  ctx.emulator.setRecordingReady(sessionId)
  await ctx.emulator.webhookDeliveries()
  await ctx.services.webhooks?.idle()
  t.match((await sessions(ctx, id)).json(), { sessions: [{ sessionId, recording: true }] })
  const res = await recording(ctx, id, sessionId)
  t.equal(res.statusCode, 200)
  t.equal((await fetch(res.json().url)).status, 200)
})
