// IDEMPOTENCY_KEYS=true: the Idempotency-Key header of POST /teleconsultation and of the legacy
// participants route. A repeat answers the first answer and creates nothing (no room, no user,
// no record); another body 422; concurrent repeats one creation; a failure frees the key;
// replicas sharing one CRUD Service agree.
import t from 'tap'
import type { KaleyraEmulator } from '../../src/emulator/index.js'
import { eachStore, setup, startEmulator, storesOf, type StoreKind, type Tap } from '../helpers/app.js'
import { startCrud } from '../helpers/crud.js'
import { as, body, doctor, HOUR, isoFromNow, patient } from '../helpers/fixtures.js'
import { faultyStores } from '../helpers/store-faults.js'

const ON = { IDEMPOTENCY_KEYS: 'true' }
const KEY = '6f1c1a52-5d55-4d4c-9a51-2a4a1c3e0b7d'

async function idempotentApp (t: Tap, store: StoreKind, opts: { now?: () => number } = {}) {
  const faulty = faultyStores(await storesOf(t, store))
  const ctx = await setup(t, {
    env: ON,
    stores: faulty.stores,
    overrides: opts.now !== undefined ? { now: opts.now } : {}
  })
  return { ...ctx, faulty }
}

function userCreations (emulator: KaleyraEmulator): number {
  return emulator.requests().filter(r => r.method === 'POST' && r.path === '/v2/users').length
}

const create = (payload: Record<string, unknown>, key = KEY, headers: Record<string, string> = {}) =>
  ({ method: 'POST' as const, url: '/teleconsultation', payload, headers: { 'idempotency-key': key, ...headers } })

eachStore(t, 'the same key and body again: the same 201, no second room, user or record', async (t, store) => {
  const { app, emulator, faulty } = await idempotentApp(t, store)
  const payload = body()
  const first = await app.inject(create(payload))
  t.equal(first.statusCode, 201)
  t.equal(first.headers['idempotent-replayed'], undefined)
  const users = userCreations(emulator)
  for (let i = 0; i < 2; i++) {
    // The same body with its keys in another order is the same request.
    const repeat = await app.inject(create(Object.fromEntries(Object.entries(payload).reverse())))
    t.equal(repeat.statusCode, 201)
    t.same(repeat.json(), first.json(), 'the first answer')
    t.equal(repeat.headers['idempotent-replayed'], 'true')
  }
  t.equal(emulator.liveRooms().length, 1, 'one room')
  t.equal(userCreations(emulator), users, 'no user created again')
  t.equal(faulty.succeeded('insert'), 1, 'one record')
})

eachStore(t, 'the same key with another body: 422 and nothing created', async (t, store) => {
  const { app, emulator, faulty } = await idempotentApp(t, store)
  const first = await app.inject(create(body()))
  t.equal(first.statusCode, 201)
  const other = await app.inject(create(body({ participants: [doctor('doctor-2'), patient()] })))
  t.equal(other.statusCode, 422)
  t.same(other.json(), { error: 'This Idempotency-Key was used for another request: use a new key for a different request' })
  t.equal(emulator.liveRooms().length, 1)
  t.notOk(emulator.users().some(u => u.userId.includes('doctor-2')))
  t.equal(faulty.succeeded('insert'), 1)
  const route = await app.inject({ ...create({ userId: 'patient-9', groups: ['patient'], fullName: 'P' }), url: `/teleconsultation/${String(first.json().roomId)}/participants/data` })
  t.equal(route.statusCode, 422, 'a key is tied to its route too')
})

eachStore(t, 'concurrent requests with one key: one creation, the others the same answer or 409 in progress', async (t, store) => {
  const { app, emulator, faulty } = await idempotentApp(t, store)
  emulator.faults.add({ method: 'POST', path: '/v2/rooms', kind: 'latency', ms: 150 })
  const payload = body()
  const answers = await Promise.all(Array.from({ length: 6 }, async () => await app.inject(create(payload))))
  const created = answers.filter(a => a.statusCode === 201)
  const busy = answers.filter(a => a.statusCode === 409)
  t.equal(created.length + busy.length, answers.length, `statuses: ${answers.map(a => a.statusCode).join(',')}`)
  t.ok(created.length >= 1)
  t.equal(new Set(created.map(a => a.json().roomId)).size, 1, 'one teleconsultation id')
  for (const a of busy) t.same(a.json(), { error: 'A request with this Idempotency-Key is in progress' })
  t.equal(emulator.liveRooms().length, 1, 'one room')
  t.equal(faulty.succeeded('insert'), 1, 'one record')
  const after = await app.inject(create(payload))
  t.equal(after.statusCode, 201)
  t.same(after.json(), created[0].json(), 'once done, every repeat gets the answer')
})

eachStore(t, 'a failed creation frees the key: the retry creates it once', async (t, store) => {
  const { app, emulator, faulty } = await idempotentApp(t, store)
  faulty.failNext('insert')
  const payload = body()
  const failed = await app.inject(create(payload))
  t.equal(failed.statusCode, 502)
  t.equal(emulator.liveRooms().length, 0, 'the room of the failed attempt is deleted')
  const retry = await app.inject(create(payload))
  t.equal(retry.statusCode, 201)
  t.equal(retry.headers['idempotent-replayed'], undefined, 'run, not replayed')
  const again = await app.inject(create(payload))
  t.same(again.json(), retry.json())
  t.equal(emulator.liveRooms().length, 1)
  t.equal(faulty.succeeded('insert'), 1)
  const refused = await app.inject(create({ ...body(), start_date: 'tomorrow' }, 'bad-body-key'))
  t.equal(refused.statusCode, 400)
  const fixed = await app.inject(create(body({ participants: [doctor('doctor-3'), patient()] }), 'bad-body-key'))
  t.equal(fixed.statusCode, 201, 'a request refused by validation never took the key')
})

eachStore(t, 'keys are per caller: another caller with the same key gets their own creation, never the first answer', async (t, store) => {
  const { app, emulator } = await idempotentApp(t, store)
  const payload = body()
  const mine = await app.inject(create(payload, KEY, as('backoffice-1')))
  const theirs = await app.inject(create(payload, KEY, as('backoffice-2')))
  t.equal(mine.statusCode, 201)
  t.equal(theirs.statusCode, 201)
  t.not(theirs.json().roomId, mine.json().roomId)
  t.equal(emulator.liveRooms().length, 2)
})

t.test('a key expires after 24 hours: then it creates again', async t => {
  let clock = Date.now()
  const { app, emulator, faulty } = await idempotentApp(t, 'crud', { now: () => clock })
  const payload = body({ start: isoFromNow(48 * HOUR) })
  const first = await app.inject(create(payload))
  clock += 23 * HOUR
  t.same((await app.inject(create(payload))).json(), first.json(), 'still remembered after 23 h')
  clock += 2 * HOUR
  const later = await app.inject(create(payload))
  t.equal(later.statusCode, 201)
  t.not(later.json().roomId, first.json().roomId, 'a new creation after 25 h')
  t.equal(faulty.succeeded('insert'), 2)
  t.equal(emulator.liveRooms().length, 2)
})

t.test('the legacy participants route: a repeated addition adds once and answers 201 again', async t => {
  const { app, emulator } = await idempotentApp(t, 'memory')
  const partial = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ participants: [doctor()], number: 2 }) })
  const { roomId } = partial.json()
  const add = { method: 'POST' as const, url: `/teleconsultation/${String(roomId)}/participants/data`, payload: patient(), headers: { 'idempotency-key': KEY } }
  const first = await app.inject(add)
  t.equal(first.statusCode, 201)
  t.equal(first.body, '')
  const repeat = await app.inject(add)
  t.equal(repeat.statusCode, 201, 'not 409 "already has all its participants"')
  t.equal(repeat.headers['idempotent-replayed'], 'true')
  t.equal(emulator.liveRooms().length, 1, 'the room made once')
  const without = await app.inject({ ...add, headers: {} })
  t.equal(without.statusCode, 409, 'without the header, as before (the teleconsultation has begun)')
})

t.test('without IDEMPOTENCY_KEYS, or without the header, nothing changes', async t => {
  const off = await setup(t)
  const payload = body()
  for (let i = 0; i < 2; i++) t.equal((await off.app.inject(create(payload, ' not validated either '))).statusCode, 201)
  t.equal(off.emulator.liveRooms().length, 2, 'the header is ignored')
  const on = await setup(t, { env: ON })
  for (let i = 0; i < 2; i++) t.equal((await on.app.inject({ method: 'POST', url: '/teleconsultation', payload })).statusCode, 201)
  t.equal(on.emulator.liveRooms().length, 2, 'no header, no idempotency')
})

t.test('a malformed key is a 400 naming the header', async t => {
  const { app, emulator } = await setup(t, { env: ON })
  for (const key of ['x'.repeat(256), 'has space', 'tab\there', 'é']) {
    const res = await app.inject(create(body(), key))
    t.equal(res.statusCode, 400, JSON.stringify(key))
    t.match(res.json().message, /^headers\.idempotency-key /)
  }
  t.equal(emulator.liveRooms().length, 0)
})

t.test(
  'two replicas sharing the CRUD Service agree: concurrent and repeated creations with one key make one room and one record',
  async t => {
    const crud = await startCrud(t)
    const emulator = await startEmulator(t)
    const replicas = await Promise.all([
      setup(t, { env: ON, store: 'crud', crud, emulator }),
      setup(t, { env: ON, store: 'crud', crud, emulator })
    ])
    emulator.faults.add({ method: 'POST', path: '/v2/rooms', kind: 'latency', ms: 150 })
    const payload = body()
    const answers = await Promise.all(
      replicas.flatMap(({ app }) => [app.inject(create(payload)), app.inject(create(payload))])
    )
    t.ok(
      answers.every(a => a.statusCode === 201 || a.statusCode === 409),
      `statuses: ${answers.map(a => a.statusCode).join(',')}`
    )
    emulator.faults.clear()
    const repeats = await Promise.all(replicas.map(async ({ app }) => await app.inject(create(payload))))
    t.ok(repeats.every(a => a.statusCode === 201))
    const ids = new Set([...answers, ...repeats].filter(a => a.statusCode === 201).map(a => a.json().roomId))
    t.equal(ids.size, 1, 'one teleconsultation id on both replicas')
    t.equal(crud.documents('teleconsultations').length, 1, 'one record')
    t.equal(emulator.liveRooms().length, 1, 'one room')
    t.equal(crud.documents('teleconsultations_idempotency').length, 1, 'one key document')
    t.match(crud.documents('teleconsultations_idempotency')[0], {
      state: 'DONE',
      statusCode: 201,
      response: { roomId: [...ids][0] }
    })
    t.notOk(
      JSON.stringify(crud.documents('teleconsultations_idempotency')).includes(KEY),
      'the client key is stored hashed'
    )
    t.equal(
      (await replicas[1].app.inject(create(body({ participants: [doctor('doctor-7'), patient()] })))).statusCode,
      422,
      'the other replica knows the body too'
    )
  }
)

t.test('the OpenAPI document shows the header, its statuses and an example only when it is honoured', async t => {
  const headerOf = (
    spec: { paths: Record<string, { post: { parameters?: Array<{ in: string; name: string; example?: unknown }> } }> },
    path: string
  ) => spec.paths[path].post.parameters?.find(p => p.in === 'header' && p.name === 'idempotency-key')
  const on = await setup(t, { env: ON })
  const spec = (await on.app.inject({ method: 'GET', url: '/documentation/json' })).json()
  for (const path of ['/teleconsultation', '/teleconsultation/{id}/participants/data']) {
    t.ok(headerOf(spec, path), `${path}: header documented`)
    t.ok(spec.paths[path].post.responses['422'], `${path}: 422 documented`)
  }
  t.ok(spec.paths['/teleconsultation'].post.responses['409'])
  const off = await setup(t)
  t.notOk(headerOf((await off.app.inject({ method: 'GET', url: '/documentation/json' })).json(), '/teleconsultation'), 'not documented when ignored')
})

t.test('CRUD: a lost answer to the reservation or to the recorded answer still makes one creation', async t => {
  const { app, emulator, crud } = await setup(t, { env: ON, store: 'crud' })
  if (crud === undefined) throw new Error('no CRUD fake')
  crud.faults.add({ method: 'POST', path: '/teleconsultations_idempotency/', kind: 'reset', phase: 'after', times: 1 })
  const payload = body()
  const first = await app.inject(create(payload))
  t.equal(first.statusCode, 201, 'the reservation was found to be ours')
  t.equal((await app.inject(create(payload))).statusCode, 201)
  crud.faults.add({ method: 'PATCH', path: '/teleconsultations_idempotency/', kind: 'status', status: 503 })
  const other = body({ start: isoFromNow(HOUR) })
  const second = await app.inject(create(other, 'second-key'))
  t.equal(second.statusCode, 201, 'the creation is answered even when its answer cannot be recorded')
  crud.faults.clear()
  const repeat = await app.inject(create(other, 'second-key'))
  t.equal(repeat.statusCode, 409, 'then the key stays in progress rather than create twice')
  t.equal(crud.documents('teleconsultations').length, 2)
  t.equal(emulator.liveRooms().length, 2)
})
