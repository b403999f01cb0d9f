// POST /webhooks/kaleyra (KALEYRA_WEBHOOKS=true): Kaleyra's signed events, checked on the raw bytes.
import t from 'tap'
import { checkSignature, signatureHeader, signatureOf } from '../../src/lib/signature.js'
import { eachStore, setup } from '../helpers/app.js'
import { as, body } from '../helpers/fixtures.js'

const ON = { KALEYRA_WEBHOOKS: 'true', DEFAULT_RECORDING_TYPE: 'automatic' }
const nowS = (): number => Math.floor(Date.now() / 1000)

type Ctx = Awaited<ReturnType<typeof setup>>

async function created (ctx: Ctx, prefix = ''): Promise<{ id: string, roomId: string }> {
  const res = await ctx.app.inject({ method: 'POST', url: `${prefix}/teleconsultation`, payload: body({ start: '2020-01-01T10:00:00.000Z', end: '2020-01-01T10:30:00.000Z' }) })
  if (res.statusCode !== 201) throw new Error(`create answered ${res.statusCode}: ${res.body}`)
  const id: string = res.json().roomId
  const record = await ctx.stores.teleconsultations.get(id)
  return { id, roomId: record?.bandyerRoomId ?? '' }
}

async function deliver (
  ctx: Ctx,
  payload: unknown,
  opts: { key?: string; t?: number; tamper?: (raw: string) => string; prefix?: string } = {}
) {
  const raw = JSON.stringify(payload)
  const signature = signatureHeader(opts.key ?? ctx.emulator.apiKey, opts.t ?? nowS(), raw)
  const res = await ctx.app.inject({
    method: 'POST',
    url: `${opts.prefix ?? ''}/webhooks/kaleyra`,
    headers: { 'content-type': 'application/json', 'bandyer-signature': signature },
    payload: opts.tamper?.(raw) ?? raw
  })
  await ctx.services.webhooks?.idle()
  return res
}

const recordingReady = (roomId: string, sessionId: string) => ({ event: 'on_recording_available', event_version: '1.0', namespace: 'room', timestamp: Date.now(), data: { room_id: roomId, session_id: sessionId } })

t.test('Kaleyra\'s documented test vector', async t => {
  const body = '{"event":"test"}'
  t.equal(signatureOf('ak_live_123456', 1554193902, body), '6841e55cb12f2d9d1216c47097c75fd737a22a3a00c8d8f8d3d35fb2b613ce5b')
  const header = 't=1554193902,v0=6841e55cb12f2d9d1216c47097c75fd737a22a3a00c8d8f8d3d35fb2b613ce5b'
  t.equal(checkSignature(header, Buffer.from(body), 'ak_live_123456', 1554193902, 300), 'valid')
  const flipped = Buffer.from(body)
  flipped[3] ^= 1
  t.equal(checkSignature(header, flipped, 'ak_live_123456', 1554193902, 300), 'invalid', 'a flipped byte')
  t.equal(checkSignature(header, Buffer.from(body), 'ak_live_123456', 1554193902 + 301, 300), 'stale')
  t.equal(checkSignature(undefined, Buffer.from(body), 'ak_live_123456', 1554193902, 300), 'missing')
  t.equal(checkSignature('t=1554193902,v0=zz', Buffer.from(body), 'ak_live_123456', 1554193902, 300), 'invalid')
})

t.test('off by default: no webhook route', async t => {
  const ctx = await setup(t)
  const res = await ctx.app.inject({ method: 'POST', url: '/webhooks/kaleyra', payload: { event: 'test' } })
  t.equal(res.statusCode, 404)
  t.equal(ctx.services.webhooks, undefined)
})

t.test('refusals (401 bad, flipped, stale; 400 not an envelope) change nothing', async t => {
  const ctx = await setup(t, { env: ON })
  const { id, roomId } = await created(ctx)
  const before = await ctx.stores.teleconsultations.get(id)
  const hook = { event: 'on_room_deleted', data: { room_id: roomId } }

  const unsigned = await ctx.app.inject({ method: 'POST', url: '/webhooks/kaleyra', payload: hook })
  t.equal(unsigned.statusCode, 401)
  t.same(unsigned.json(), { error: 'Invalid webhook signature' })
  const wrongKey = await deliver(ctx, hook, { key: 'ak_other' })
  t.equal(wrongKey.statusCode, 401)
  const flipped = await deliver(ctx, hook, { tamper: raw => raw.replace('room_id', 'room_ie') })
  t.equal(flipped.statusCode, 401, 'a flipped byte')
  const stale = await deliver(ctx, hook, { t: nowS() - 301 })
  t.equal(stale.statusCode, 401)
  t.same(stale.json(), { error: 'Webhook signature expired' })
  const notEnvelope = await deliver(ctx, { hello: 'world' })
  t.equal(notEnvelope.statusCode, 400)
  t.same(await ctx.stores.teleconsultations.get(id), before, 'the record is as it was')
  t.equal(ctx.emulator.liveRooms().length, 1)
  const metrics = await ctx.app.inject({ method: 'GET', url: '/-/metrics' })
  t.match(metrics.body, /kaleyra_webhooks_received_total\{event="other",outcome="rejected"\} 5/)
})

eachStore(t, 'on_room_deleted: no more link, and a PATCH makes a new room; a replay is processed once', async (t, store) => {
  const ctx = await setup(t, { env: ON, store })
  const { id, roomId } = await created(ctx)
  const view = async () => (await ctx.app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('patient-1') })).json()
  t.type((await view()).accessLinkURL, 'string')

  const hook = { event: 'on_room_deleted', event_version: '1.0', namespace: 'room', timestamp: Date.now(), data: { room_id: roomId, deleted_links: [] } }
  const res = await deliver(ctx, hook)
  t.equal(res.statusCode, 200)
  t.same(res.json(), { received: true })
  t.equal((await view()).accessLinkURL, null)
  const afterFirst = await ctx.stores.teleconsultations.get(id)
  t.equal((await deliver(ctx, hook)).statusCode, 200, 'a replay is accepted')
  t.same(await ctx.stores.teleconsultations.get(id), afterFirst, 'and changes nothing')

  const patch = await ctx.app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: {} })
  t.equal(patch.statusCode, 204)
  const record = await ctx.stores.teleconsultations.get(id)
  t.not(record?.bandyerRoomId, null)
  t.not(record?.bandyerRoomId, roomId, 'a new room')
  t.type((await view()).accessLinkURL, 'string')
  const metrics = await ctx.app.inject({ method: 'GET', url: '/-/metrics' })
  t.match(metrics.body, /kaleyra_webhooks_received_total\{event="on_room_deleted",outcome="processed"\} 1/)
  t.match(metrics.body, /kaleyra_webhooks_received_total\{event="on_room_deleted",outcome="ignored"\} 1/)
})

t.test('transcription: 404 without asking Kaleyra until on_transcription_available came; other events are ignored', async t => {
  const ctx = await setup(t, { env: { ...ON, SERVICE_PREFIX: '/api' } })
  const { id, roomId } = await created(ctx, '/api')
  const sessionId = ctx.emulator.addSession(roomId, { transcription: { segments: [] } })
  const get = async () => await ctx.app.inject({ method: 'GET', url: `/api/transcription/${id}/${sessionId}`, headers: as('patient-1') })
  const calls = ctx.emulator.requests().length
  const early = await get()
  t.equal(early.statusCode, 404)
  t.same(early.json(), { error: 'Transcription not available yet' })
  t.equal(ctx.emulator.requests().length, calls, 'Kaleyra was not asked')

  t.equal((await deliver(ctx, { event: 'on_call_incoming', data: {} }, { prefix: '/api' })).statusCode, 200)
  t.equal((await deliver(ctx, recordingReady(roomId, sessionId), { prefix: '/api' })).statusCode, 200)
  t.equal((await get()).statusCode, 404, 'a recording is not a transcription')
  const ready = { event: 'on_transcription_available', timestamp: Date.now(), data: { room_id: roomId, session_id: sessionId } }
  t.equal((await deliver(ctx, ready, { prefix: '/api' })).statusCode, 200)
  const res = await get()
  t.equal(res.statusCode, 200)
  t.same(res.json(), { segments: [] })
  const record = await ctx.stores.teleconsultations.get(id)
  t.same(record?.readySessions, [{ sessionId, recording: true, transcription: true }])
})

t.test('the emulator sends signed webhooks: a room deleted there stops the old link; a recording made ready is remembered', async t => {
  const ctx = await setup(t, { env: ON })
  const address = await ctx.app.listen({ host: '127.0.0.1', port: 0 })
  ctx.emulator.setWebhookUrl(`${address}/webhooks/kaleyra`)
  const { id, roomId } = await created(ctx)
  const sessionId = ctx.emulator.addSession(roomId)
  ctx.emulator.setRecordingReady(sessionId)
  t.same(await ctx.emulator.webhookDeliveries(), [{ event: 'on_recording_available', status: 200 }])
  await ctx.services.webhooks?.idle()
  t.same((await ctx.stores.teleconsultations.get(id))?.readySessions, [{ sessionId, recording: true }])

  const deleted = await fetch(`${ctx.emulator.url}/v2/rooms/${roomId}`, { method: 'DELETE', headers: { apikey: ctx.emulator.apiKey } })
  t.equal(deleted.status, 200)
  t.same((await ctx.emulator.webhookDeliveries()).map(d => d.event), ['on_recording_available', 'on_room_deleted'])
  await ctx.services.webhooks?.idle()
  const view = await ctx.app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('patient-1') })
  t.equal(view.json().accessLinkURL, null)
})

t.test('the emulator sends nothing unless told where', async t => {
  const ctx = await setup(t, { env: ON })
  const { roomId } = await created(ctx)
  await fetch(`${ctx.emulator.url}/v2/rooms/${roomId}`, { method: 'DELETE', headers: { apikey: ctx.emulator.apiKey } })
  t.same(await ctx.emulator.webhookDeliveries(), [])
})
