// The event outbox (EVENTS_WEBHOOK_URL): the same contract in memory and in a CRUD collection.
import { readFile } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'
import t from 'tap'
import type { EventType, OutgoingEvent } from '../../src/events/types.js'
import { createCrudStores } from '../../src/store/crud/index.js'
import { createMemoryOutboxStore, type EventOutboxStore } from '../../src/store/outbox.js'
import { FAST_CRUD, UPSTREAM_TIMEOUT_MS, type Tap } from '../helpers/app.js'
import { EVENT_OUTBOX_FIELDS, startCrud } from '../helpers/crud.js'
import type { FakeCrudService } from '../fakes/crud-service.js'

function event (type: EventType = 'teleconsultation.created', occurredAt = new Date().toISOString()): OutgoingEvent {
  return { id: randomUUID(), type, occurredAt, teleconsultationId: 'tc-1', data: type === 'recording.available' ? { sessionId: 's-1' } : {} }
}

async function crudOutbox (t: Tap): Promise<{ outbox: EventOutboxStore, crud: FakeCrudService }> {
  const crud = await startCrud(t)
  const stores = createCrudStores({
    baseUrl: crud.url,
    timeoutMs: UPSTREAM_TIMEOUT_MS,
    teleconsultationsPath: 'teleconsultations',
    userMapPath: 'teleconsultations_users',
    outboxPath: 'teleconsultation_events',
    userIdHeader: 'miauserid',
    ...FAST_CRUD
  })
  t.teardown(async () => {
    await Promise.all([stores.teleconsultations.close(), stores.userMap.close(), stores.outbox?.close()])
  })
  if (stores.outbox === undefined) throw new Error('no outbox')
  return { outbox: stores.outbox, crud }
}

const kinds: Array<[string, (t: Tap) => Promise<EventOutboxStore>]> = [
  ['memory', async () => createMemoryOutboxStore()],
  ['crud', async t => (await crudOutbox(t)).outbox]
]

for (const [kind, make] of kinds) {
  t.test(`due entries, claims conditional on the version, removal [${kind}]`, async t => {
    const outbox = await make(t)
    const now = Date.now()
    const older = event('recording.available', new Date(now - 60_000).toISOString())
    const newer = event('teleconsultation.updated', new Date(now - 1_000).toISOString())
    const future = event('teleconsultation.deleted', new Date(now + 60_000).toISOString())
    for (const e of [newer, future, older]) await outbox.add(e)
    await outbox.add(older)
    const due = await outbox.listDue(new Date(now).toISOString(), 10)
    t.same(due.map(e => e.event), [older, newer], 'due ones only, the longest due first, an event stored once')
    t.same(due.map(e => [e.attempts, e.status]), [[0, 'pending'], [0, 'pending']])

    const [first] = due
    const claimed = await outbox.update(first.key, first.version, {
      attempts: 1,
      nextAttemptAt: new Date(now + 30_000).toISOString()
    })
    t.equal(claimed?.attempts, 1)
    t.equal(await outbox.update(first.key, first.version, { attempts: 1 }), null, 'a second claim on the same version loses')
    t.same((await outbox.listDue(new Date(now).toISOString(), 10)).map(e => e.event.id), [newer.id], 'a claimed entry is out of sight')

    if (claimed === null) return
    const failed = await outbox.update(claimed.key, claimed.version, { status: 'failed' })
    t.equal(failed?.status, 'failed')
    t.same((await outbox.listDue(new Date(now + 120_000).toISOString(), 10)).map(e => e.event.id), [newer.id, future.id], 'a failed entry is never due again')
    await outbox.remove(due[1].key)
    t.same((await outbox.listDue(new Date(now + 120_000).toISOString(), 1)).map(e => e.event.id), [future.id], 'a removed entry is gone; the limit holds')
  })
}

t.test('CRUD: a publish whose answer was lost is not stored twice', async t => {
  const { outbox, crud } = await crudOutbox(t)
  crud.faults.add({ method: 'POST', path: '/teleconsultation_events/', kind: 'reset', phase: 'after', times: 1 })
  const e = event()
  await outbox.add(e)
  await outbox.add(e)
  t.equal(crud.documents('teleconsultation_events').length, 1)
  t.same((await outbox.listDue(new Date(Date.now() + 1000).toISOString(), 10)).map(d => d.event), [e])
})

t.test('CRUD: a publish the CRUD refused is an error (the publisher retries it)', async t => {
  const { outbox, crud } = await crudOutbox(t)
  crud.faults.add({ method: 'POST', path: '/teleconsultation_events/', kind: 'status', status: 500, times: 1 })
  await t.rejects(outbox.add(event()))
  t.equal(crud.documents('teleconsultation_events').length, 0)
})

t.test('docs/crud-collections.md defines every outbox field, with the type written', async t => {
  const markdown = await readFile(new URL('../../docs/crud-collections.md', import.meta.url), 'utf8')
  const section = markdown.split(/^## /m).find(part => part.startsWith('Event outbox\n')) ?? ''
  const documented = new Map([...section.matchAll(/^\| `([A-Za-z_]+)` \| ([^|]+?) \|/gm)].map(m => [m[1], m[2].toLowerCase()]))
  t.same([...documented.keys()].sort(), [...EVENT_OUTBOX_FIELDS].sort(), 'the documented fields are the collection the tests use')
  const { outbox, crud } = await crudOutbox(t)
  await outbox.add(event('recording.available'))
  const [entry] = await outbox.listDue(new Date(Date.now() + 1000).toISOString(), 1)
  await outbox.update(entry.key, entry.version, { attempts: 1, nextAttemptAt: new Date().toISOString(), status: 'failed' })
  const checks: Record<string, (v: unknown) => boolean> = {
    string: v => typeof v === 'string',
    number: v => typeof v === 'number',
    date: v => typeof v === 'string' && new Date(v).toISOString() === v,
    object: v => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(x => typeof x === 'string')
  }
  const writes = crud.requests().filter(r => r.path.startsWith('/teleconsultation_events') && (r.method === 'POST' || r.method === 'PATCH'))
  t.equal(writes.length, 2)
  for (const write of writes) {
    const raw = write.body as Record<string, unknown>
    const values = write.method === 'PATCH' ? (raw.$set as Record<string, unknown>) : raw
    for (const [field, value] of Object.entries(values)) {
      if (field === '__STATE__') { t.equal(value, 'PUBLIC'); continue }
      const type = documented.get(field)
      t.ok(type !== undefined && checks[type]?.(value), `${write.method} ${field} is written as ${String(type)}`)
    }
  }
})
