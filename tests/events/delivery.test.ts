// EVENTS_WEBHOOK_URL: signed events to the caller's systems, at least once, through an outbox.
import t from 'tap'
import { EVENT_TYPES } from '../../src/events/types.js'
import { loadEnv } from '../../src/config/env.js'
import { NO_EVENTS } from '../../src/events/types.js'
import { signatureHeader } from '../../src/lib/signature.js'
import { CRUD_FAULT_TIMEOUT, eachStore, setup, type TestContext } from '../helpers/app.js'
import { startCrud } from '../helpers/crud.js'
import { startEventsReceiver, type EventsReceiver } from '../helpers/events-receiver.js'
import { as, body, HOUR, isoFromNow } from '../helpers/fixtures.js'
import { waitFor } from '../helpers/wait.js'

const SECRET = 'whsec_test_0123456789abcdef'

function eventsEnv (receiver: EventsReceiver, extra: Record<string, string> = {}): Record<string, string> {
  return { EVENTS_WEBHOOK_URL: receiver.url, EVENTS_WEBHOOK_SECRET: SECRET, ...extra }
}

/** Delivery only when a test asks (or right after a publish); retries due after a few ms. */
const FAST_EVENTS = { intervalMs: 0, retryBaseMs: 5, retryMaxDelayMs: 20, storeRetryDelaysMs: [20, 50] }

async function create (ctx: TestContext, opts: { start?: string, end?: string } = {}): Promise<string> {
  const res = await ctx.app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ start: opts.start ?? isoFromNow(3 * HOUR), end: opts.end ?? isoFromNow(4 * HOUR) }) })
  if (res.statusCode !== 201) throw new Error(`create answered ${res.statusCode}: ${res.body}`)
  return res.json().roomId
}

async function settled (...apps: TestContext[]): Promise<void> {
  for (const ctx of apps) {
    await ctx.services.webhooks?.idle()
    await ctx.services.reaper.idle()
    await ctx.services.eventDelivery?.idle()
  }
}

async function kaleyraWebhook (ctx: TestContext, event: string, roomId: string, sessionId: string): Promise<void> {
  const raw = JSON.stringify({ event, event_version: '1.0', namespace: 'room', timestamp: Date.now(), data: { room_id: roomId, session_id: sessionId } })
  const res = await ctx.app.inject({
    method: 'POST',
    url: '/webhooks/kaleyra',
    headers: { 'content-type': 'application/json', 'bandyer-signature': signatureHeader(ctx.emulator.apiKey, Math.floor(Date.now() / 1000), raw) },
    payload: raw
  })
  if (res.statusCode !== 200) throw new Error(`webhook answered ${res.statusCode}`)
}

eachStore(t, 'a receiver gets every event type once per event id, signed, with ids only', async (t, store) => {
  const receiver = await startEventsReceiver(t, SECRET)
  const ctx = await setup(t, {
    store,
    env: eventsEnv(receiver, { KALEYRA_WEBHOOKS: 'true', ROOM_CLOSE_AFTER_END_MS: '0', LOG_LEVEL: 'debug' }),
    overrides: { closer: { intervalMs: 0 }, events: FAST_EVENTS }
  })
  const past = await create(ctx, { start: '2020-01-01T10:00:00.000Z', end: '2020-01-01T10:30:00.000Z' })
  const pastRoom = (await ctx.stores.teleconsultations.get(past))?.bandyerRoomId ?? ''
  await kaleyraWebhook(ctx, 'on_recording_available', pastRoom, 'session-1')
  await kaleyraWebhook(ctx, 'on_transcription_available', pastRoom, 'session-1')
  await settled(ctx)
  t.equal(await ctx.services.closer?.tick(), 1)

  const future = await create(ctx)
  const patched = await ctx.app.inject({ method: 'PATCH', url: `/teleconsultation/${future}`, payload: { start_date: isoFromNow(5 * HOUR), duration_in_seconds: 1800 } })
  t.equal(patched.statusCode, 204)
  t.equal((await ctx.app.inject({ method: 'DELETE', url: `/teleconsultation/${future}` })).statusCode, 204)
  await settled(ctx)
  await waitFor('every event delivered', () => receiver.accepted().length >= 7)
  await settled(ctx)

  const got = receiver.accepted()
  t.ok(got.every(e => e.verified), 'every delivery verifies with the documented scheme')
  t.equal(new Set(got.map(e => e.body.id)).size, got.length, 'once per event id')
  t.same(
    got.map(e => e.body.type).sort(),
    [...EVENT_TYPES, 'teleconsultation.created'].sort(),
    'every type: two teleconsultations created'
  )
  const byType = (type: string) =>
    got
      .filter(e => e.body.type === type)
      .map(e => ({ teleconsultationId: e.body.teleconsultationId, data: e.body.data }))
  t.same(byType('recording.available'), [{ teleconsultationId: past, data: { sessionId: 'session-1' } }])
  t.same(byType('transcription.available'), [{ teleconsultationId: past, data: { sessionId: 'session-1' } }])
  t.same(byType('teleconsultation.ended'), [{ teleconsultationId: past, data: {} }])
  t.same(byType('teleconsultation.updated'), [{ teleconsultationId: future, data: {} }])
  t.same(byType('teleconsultation.deleted'), [{ teleconsultationId: future, data: {} }])
  for (const e of got) {
    t.same(Object.keys(e.body).sort(), ['data', 'id', 'occurredAt', 'teleconsultationId', 'type'])
    t.equal(e.headers['x-teleconsultation-event-id'], e.body.id)
    t.equal(e.headers['content-type'], 'application/json')
    t.notOk(/Dr |Patient |https?:/.test(e.raw), 'no names, no links')
  }
  const logs = ctx.logs.lines.join('\n')
  t.notOk(logs.includes(SECRET), 'the secret is never logged')
  t.notOk(logs.includes('tenant=t1'), 'nor the receiver URL (it may carry a token)')

  t.equal(await ctx.services.eventDelivery?.tick(), 0, 'a later pass sends nothing again')
  t.equal(receiver.received.length, got.length)
  const metrics = (await ctx.app.inject({ method: 'GET', url: '/-/metrics' })).body
  t.match(metrics, /events_delivered_total\{type="teleconsultation.created"\} 2/)
  t.match(metrics, /events_delivered_total\{type="recording.available"\} 1/)
  t.match(metrics, /upstream_requests_total\{target="events",operation="events.deliver",status_class="2xx"\} 7/)
  if (ctx.crud !== undefined) {
    t.same(ctx.crud.documents('teleconsultation_events').map(d => d.__STATE__), new Array(7).fill('TRASH'), 'delivered entries leave the outbox')
  }
})

eachStore(t, 'events due while the receiver is down are delivered once it is back', async (t, store) => {
  const receiver = await startEventsReceiver(t, SECRET)
  const ctx = await setup(t, { store, env: eventsEnv(receiver), overrides: { events: FAST_EVENTS } })
  await receiver.stop()
  const id = await create(ctx)
  await settled(ctx)
  receiver.answer(503)
  await receiver.start()
  await waitFor('a refused attempt', async () => { await ctx.services.eventDelivery?.tick(); return receiver.received.length >= 1 })
  await settled(ctx)
  t.equal(receiver.accepted().length, 0)

  receiver.answer(200)
  await waitFor('the event delivered on a later pass', async () => { await ctx.services.eventDelivery?.tick(); return receiver.accepted().length === 1 })
  t.equal(receiver.accepted()[0].body.teleconsultationId, id)
  t.equal(new Set(receiver.received.map(r => r.body.id)).size, 1, 'every attempt carries the same event id')
  t.equal(await ctx.services.eventDelivery?.tick(), 0)
  const warnings = ctx.logs.records().filter(r => r.msg === 'event not delivered, will retry')
  t.ok(warnings.length >= 2, 'each failed attempt is logged')
  t.ok(warnings.some(w => w.status === 503) && warnings.some(w => w.failure === 'network'))
})

t.test('with the CRUD store, undelivered events survive a restart', async t => {
  const receiver = await startEventsReceiver(t, SECRET)
  const crud = await startCrud(t)
  const first = await setup(t, { store: 'crud', crud, env: eventsEnv(receiver), overrides: { events: FAST_EVENTS } })
  await receiver.stop()
  const id = await create(first)
  await settled(first)
  await first.app.close()
  t.equal(crud.documents('teleconsultation_events').filter(d => d.__STATE__ === 'PUBLIC').length, 1, 'still in the outbox')

  await receiver.start()
  const second = await setup(t, { store: 'crud', crud, env: eventsEnv(receiver), overrides: { events: FAST_EVENTS } })
  await waitFor('delivered by the new process', async () => { await second.services.eventDelivery?.tick(); return receiver.accepted().length === 1 })
  t.equal(receiver.accepted()[0].body.teleconsultationId, id)
  t.equal(receiver.accepted()[0].body.type, 'teleconsultation.created')
})

t.test('two replicas on one CRUD Service do not both deliver an event', async t => {
  const receiver = await startEventsReceiver(t, SECRET)
  const crud = await startCrud(t)
  const first = await setup(t, { store: 'crud', crud, env: eventsEnv(receiver), overrides: { events: FAST_EVENTS } })
  const second = await setup(t, { store: 'crud', crud, emulator: first.emulator, env: eventsEnv(receiver), overrides: { events: FAST_EVENTS } })
  // Refused once each, so both replicas find them due again at the same time.
  receiver.answer(503)
  const ids = [await create(first), await create(second), await create(first), await create(second)]
  await settled(first, second)
  await waitFor('a first attempt of each', () => receiver.received.length >= ids.length)
  await settled(first, second)
  receiver.answer(200)
  await new Promise(resolve => setTimeout(resolve, 30))
  const delivered = await Promise.all([first.services.eventDelivery?.tick(), second.services.eventDelivery?.tick()])
  await waitFor('every event delivered', async () => {
    await Promise.all([first.services.eventDelivery?.tick(), second.services.eventDelivery?.tick()])
    return receiver.accepted().length >= ids.length
  })
  await settled(first, second)
  t.ok((delivered[0] ?? 0) + (delivered[1] ?? 0) <= ids.length)
  t.same(receiver.accepted().map(e => e.body.teleconsultationId).sort(), [...ids].sort(), 'each event accepted exactly once')
  t.equal(new Set(receiver.accepted().map(e => e.body.id)).size, ids.length)
})

t.test('an event the receiver keeps refusing is given up after EVENTS_RETRY_FOR_MS, and counted', async t => {
  const receiver = await startEventsReceiver(t, SECRET)
  receiver.answer(500)
  const ctx = await setup(t, { env: eventsEnv(receiver, { EVENTS_RETRY_FOR_MS: '1' }), overrides: { events: FAST_EVENTS } })
  const id = await create(ctx)
  await waitFor('the attempt', () => receiver.received.length === 1)
  await settled(ctx)
  await new Promise(resolve => setTimeout(resolve, 30))
  t.equal(await ctx.services.eventDelivery?.tick(), 0)
  t.equal(receiver.received.length, 1, 'not retried')
  t.same(await ctx.stores.outbox?.listDue(new Date(Date.now() + HOUR).toISOString(), 10), [], 'no longer due')
  const metrics = (await ctx.app.inject({ method: 'GET', url: '/-/metrics' })).body
  t.match(metrics, /events_failed_total\{type="teleconsultation.created"\} 1/)
  const given = ctx.logs.records().find(r => r.msg === 'event given up: EVENTS_RETRY_FOR_MS passed without the receiver accepting it')
  t.equal(given?.teleconsultationId, id)
  t.equal(given?.status, 500)
})

t.test('a receiver signature mismatch (wrong secret) is a refusal like any other', async t => {
  const receiver = await startEventsReceiver(t, 'another-secret')
  const ctx = await setup(t, { env: eventsEnv(receiver), overrides: { events: FAST_EVENTS } })
  await create(ctx)
  await waitFor('the attempt', () => receiver.received.length === 1)
  await settled(ctx)
  t.equal(receiver.received[0].verified, false)
  t.equal(receiver.accepted().length, 0)
})

t.test('off by default: no delivery worker, no outbox writes, no outbound call', async t => {
  const receiver = await startEventsReceiver(t, SECRET)
  const crud = await startCrud(t)
  const ctx = await setup(t, { store: 'crud', crud, env: { KALEYRA_WEBHOOKS: 'true', ROOM_CLOSE_AFTER_END_MS: '0' }, overrides: { closer: { intervalMs: 0 } } })
  t.equal(ctx.services.eventDelivery, undefined)
  t.equal(ctx.services.publisher, NO_EVENTS)
  t.equal(ctx.stores.outbox, undefined, 'the CRUD store has no outbox')
  const id = await create(ctx, { start: '2020-01-01T10:00:00.000Z', end: '2020-01-01T10:30:00.000Z' })
  await ctx.services.closer?.tick()
  t.equal((await ctx.app.inject({ method: 'DELETE', url: `/teleconsultation/${id}` })).statusCode, 204)
  await settled(ctx)
  t.same(crud.requests().filter(r => r.path.startsWith('/teleconsultation_events')), [], 'the outbox collection is never called')
  t.equal(receiver.received.length, 0)
  const metrics = (await ctx.app.inject({ method: 'GET', url: '/-/metrics', headers: as('x') })).body
  t.notMatch(metrics, /target="events"/)
})

t.test('EVENTS_WEBHOOK_URL needs EVENTS_WEBHOOK_SECRET', async t => {
  const base = { BANDYER_BASE_URL: 'http://127.0.0.1:1', BANDYER_API_SECRET_KEY: 'ak' }
  t.throws(() => loadEnv({ ...base, EVENTS_WEBHOOK_URL: 'http://127.0.0.1:9/hooks' }), /EVENTS_WEBHOOK_URL requires EVENTS_WEBHOOK_SECRET/)
  t.throws(() => loadEnv({ ...base, EVENTS_WEBHOOK_URL: 'ftp://127.0.0.1/x', EVENTS_WEBHOOK_SECRET: 's' }), /EVENTS_WEBHOOK_URL/)
  const env = loadEnv({ ...base, EVENTS_WEBHOOK_URL: 'https://hooks.example/teleconsultations', EVENTS_WEBHOOK_SECRET: 's' })
  t.equal(env.EVENTS_RETRY_FOR_MS, 24 * HOUR)
  t.equal(env.EVENTS_OUTBOX_CRUD_NAME, 'teleconsultation_events')
})

t.test('an outbox that fails does not fail or hold the request; the event is stored on a retry', async t => {
  const receiver = await startEventsReceiver(t, SECRET)
  const crud = await startCrud(t)
  const ctx = await setup(t, { store: 'crud', crud, env: eventsEnv(receiver, CRUD_FAULT_TIMEOUT), overrides: { events: FAST_EVENTS } })
  crud.faults.add({ method: 'POST', path: '/teleconsultation_events/', kind: 'hang', times: 1 })
  const id = await create(ctx)
  t.equal(crud.documents('teleconsultation_events').length, 0, 'answered 201 while the outbox write hung')
  crud.faults.add({ method: 'POST', path: '/teleconsultation_events/', kind: 'status', status: 500, times: 1 })
  await waitFor('the event delivered after the outbox took it', () => receiver.accepted().length === 1)
  t.equal(receiver.accepted()[0].body.teleconsultationId, id)
  t.equal(crud.documents('teleconsultation_events').length, 1, 'stored once')
  const retries = ctx.logs.records().filter(r => r.msg === 'event not stored in the outbox yet' && r.teleconsultationId === id)
  t.equal(retries.length, 2, 'the hang, then the 500')
})

t.test('an entry claimed by a replica that died is sent again once its lease ends, with the same id', async t => {
  const receiver = await startEventsReceiver(t, SECRET)
  let clock = Date.now()
  const ctx = await setup(t, {
    env: eventsEnv(receiver),
    overrides: { now: () => clock, events: { ...FAST_EVENTS, retryBaseMs: 1_000, retryMaxDelayMs: 1_000 } }
  })
  await receiver.stop()
  await create(ctx)
  await settled(ctx)
  const outbox = ctx.stores.outbox
  const [entry] = await outbox?.listDue(new Date(clock + 2_000).toISOString(), 10) ?? []
  t.equal(entry?.attempts, 1, 'one attempt failed (receiver down)')
  // Another replica claims it (lease: twice EVENTS_TIMEOUT_MS + 10 s = 20 s) and dies before sending.
  await outbox?.update(entry.key, entry.version, { attempts: 2, nextAttemptAt: new Date(clock + 20_000).toISOString() })
  await receiver.start()
  clock += 10_000
  t.equal(await ctx.services.eventDelivery?.tick(), 0, 'not while the lease holds')
  t.equal(receiver.received.length, 0)
  clock += 11_000
  t.equal(await ctx.services.eventDelivery?.tick(), 1, 'sent once the lease ended')
  t.equal(receiver.accepted()[0].body.id, entry.event.id)
})

t.test('with the CRUD store, readiness checks the outbox collection', async t => {
  const receiver = await startEventsReceiver(t, SECRET)
  const ctx = await setup(t, { store: 'crud', env: eventsEnv(receiver, { EVENTS_OUTBOX_CRUD_NAME: 'no_such_collection', STATUS_CHECK_CACHE_MS: '0' }) })
  const res = await ctx.app.inject({ method: 'GET', url: '/-/ready' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().message, 'event outbox store: unavailable')
})

t.test('Kaleyra deleting a room (KALEYRA_WEBHOOKS) is a teleconsultation.updated, once per delivery replayed', async t => {
  const receiver = await startEventsReceiver(t, SECRET)
  const ctx = await setup(t, { env: eventsEnv(receiver, { KALEYRA_WEBHOOKS: 'true' }), overrides: { events: FAST_EVENTS } })
  const id = await create(ctx)
  const roomId = (await ctx.stores.teleconsultations.get(id))?.bandyerRoomId ?? ''
  await kaleyraWebhook(ctx, 'on_room_deleted', roomId, 'unused')
  await kaleyraWebhook(ctx, 'on_room_deleted', roomId, 'unused')
  await settled(ctx)
  await waitFor('both events', () => receiver.accepted().length >= 2)
  await settled(ctx)
  t.same(receiver.accepted().map(e => [e.body.type, e.body.teleconsultationId]).sort(), [['teleconsultation.created', id], ['teleconsultation.updated', id]])
})
