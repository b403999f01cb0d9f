import t from 'tap'
import { kaleyraUserIdFor } from '../helpers/kaleyra-ids.js'
import type { FakeCrudService } from '../fakes/crud-service.js'
import { eachStore, setup, startEmulator, storesOf } from '../helpers/app.js'
import { startCrud } from '../helpers/crud.js'
import { startKaleyraProxy } from '../helpers/kaleyra-proxy.js'
import { body, doctor, HOUR, isoFromNow, patient } from '../helpers/fixtures.js'
import { waitFor } from '../helpers/wait.js'

eachStore(t, '20 concurrent PATCHes on one teleconsultation leave exactly one live room, the stored one', async (t, store) => {
  const { app, services, emulator, stores } = await setup(t, { store })
  const id: string = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ start: isoFromNow(HOUR) }) })).json().roomId
  const answers = await Promise.all(Array.from({ length: 20 }, async (_, i) => await app.inject({
    method: 'PATCH',
    url: `/teleconsultation/${id}`,
    payload: { start_date: isoFromNow(2 * HOUR + i * 60_000), duration_in_seconds: 1800 + i * 60 }
  })))
  const statuses = answers.map(a => a.statusCode)
  t.ok(statuses.every(s => s === 204 || s === 409), `only 204s or 409s (${statuses.join(',')})`)
  await services.reaper.idle()
  const record = await stores.teleconsultations.get(id)
  const live = emulator.liveRooms()
  t.equal(live.length, 1, 'exactly one live room')
  t.equal(live[0].roomId, record?.bandyerRoomId, 'it is the stored one')
  t.same(record?.pendingRoomDeletions, [])
})

eachStore(t, 'concurrent PATCH and DELETE never leave a room behind', async (t, store) => {
  const { app, services, emulator } = await setup(t, { store })
  const id: string = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ start: isoFromNow(HOUR) }) })).json().roomId
  const answers = await Promise.all([
    app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { duration_in_seconds: 900 } }),
    app.inject({ method: 'DELETE', url: `/teleconsultation/${id}` }),
    app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { duration_in_seconds: 1200 } })
  ])
  t.ok(answers.every(a => [204, 404].includes(a.statusCode)), answers.map(a => a.statusCode).join(','))
  await services.reaper.idle()
  t.equal(emulator.liveRooms().length, 0)
})

eachStore(t, '10 concurrent POSTs sharing a new participant create one Kaleyra user for them', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  const answers = await Promise.all(Array.from({ length: 10 }, async (_, i) => await app.inject({
    method: 'POST',
    url: '/teleconsultation',
    payload: body({ participants: [doctor('shared-doctor'), patient(`patient-${i}`)] })
  })))
  t.ok(answers.every(a => a.statusCode === 201))
  const shared = emulator.users().filter(u => u.userId === kaleyraUserIdFor('shared-doctor'))
  t.equal(shared.length, 1)
  const creations = emulator.requests().filter(r => r.method === 'POST' && r.path === '/v2/users')
  t.equal(creations.length, 11, 'one creation per distinct participant')
  t.equal(emulator.liveRooms().length, 10)
})

eachStore(t, 'the new participants of one request get their Kaleyra users concurrently, not one by one', async (t, store) => {
  const emulator = await startEmulator(t)
  const proxy = await startKaleyraProxy(emulator.url)
  t.teardown(() => proxy.close())
  const { app } = await setup(t, { store, emulator, env: { BANDYER_BASE_URL: proxy.url } })
  // Each creation is held a moment by Kaleyra: one at a time, the proxy would never see two open.
  emulator.faults.add({ method: 'POST', path: '/v2/users', kind: 'latency', ms: 150 })
  const participants = [doctor(), ...Array.from({ length: 5 }, (_, i) => patient(`new-${i}`))]
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ participants }) })
  t.equal(res.statusCode, 201)
  t.equal(emulator.users().length, 6)
  const concurrent = proxy.maxConcurrent(/^\/v2\/users/)
  t.ok(concurrent > 1, `user creations overlap (${concurrent} at once)`)
})

eachStore(t, 'two app instances sharing Kaleyra and a store adopt each other\'s users', async (t, store) => {
  const first = await setup(t, { store })
  // Memory: the same store object; CRUD: each instance its own store over one CRUD Service.
  const second = await setup(t, {
    store,
    emulator: first.emulator,
    ...(first.crud !== undefined ? { crud: first.crud } : { stores: first.stores })
  })
  const answers = await Promise.all(
    [first.app, second.app].flatMap(app =>
      Array.from(
        { length: 3 },
        async (_, i) =>
          await app.inject({
            method: 'POST',
            url: '/teleconsultation',
            payload: body({ participants: [doctor('everywhere'), patient(`p-${i}`)] })
          })
      )
    )
  )
  t.ok(answers.every(a => a.statusCode === 201))
  t.equal(first.emulator.users().filter(u => u.userId === kaleyraUserIdFor('everywhere')).length, 1, 'a 409 from Kaleyra is adopted, not an error')
})

// Replicas: several processes share one CRUD Service (the memory store cannot be shared).

/** Two service instances (replicas) sharing one CRUD Service and one Kaleyra. */
async function replicas (t: Parameters<typeof setup>[0], crud?: FakeCrudService) {
  const emulator = await startEmulator(t)
  const shared = crud ?? await startCrud(t)
  const first = await setup(t, { store: 'crud', emulator, crud: shared })
  const second = await setup(t, { store: 'crud', emulator, crud: shared })
  return {
    emulator,
    crud: shared,
    apps: [first.app, second.app],
    reapers: [first.services.reaper, second.services.reaper]
  }
}

t.test('20 concurrent PATCHes through two replicas leave exactly one live room, the stored one', async t => {
  const { emulator, crud, apps, reapers } = await replicas(t)
  const id: string = (await apps[0].inject({ method: 'POST', url: '/teleconsultation', payload: body({ start: isoFromNow(HOUR) }) })).json().roomId
  const answers = await Promise.all(Array.from({ length: 20 }, async (_, i) => await apps[i % 2].inject({
    method: 'PATCH',
    url: `/teleconsultation/${id}`,
    payload: { start_date: isoFromNow(2 * HOUR + i * 60_000), duration_in_seconds: 1800 + i * 60 }
  })))
  const statuses = answers.map(a => a.statusCode)
  t.ok(statuses.every(s => s === 204 || s === 409), `only 204s or 409s (${statuses.join(',')})`)
  t.ok(statuses.includes(204))
  for (const answer of answers.filter(a => a.statusCode === 409)) {
    t.same(answer.json(), { error: `Failed PATCH /teleconsultation/${id}: the teleconsultation was modified concurrently, retry` })
  }
  await Promise.all(reapers.map(async reaper => { await reaper.idle() }))
  const doc = crud.document('teleconsultations', id)
  const live = emulator.liveRooms()
  t.equal(live.length, 1, 'exactly one live room')
  t.equal(live[0].roomId, doc?.bandyerRoomId, 'it is the stored one')
  t.same(doc?.pendingRoomDeletions, [])
  t.ok(crud.requests().some(r => r.method === 'PATCH' && r.status === 404), 'some conditional updates lost the race')
})

t.test('a DELETE on one replica while the other replaces the room: 404 for the PATCH, no room left', async t => {
  const emulator = await startEmulator(t)
  const crud = await startCrud(t)
  // The first replica's PATCH stops once its new room exists, before storing it, until the test
  // lets it go: the other replica deletes the teleconsultation meanwhile, however long that takes.
  const stores = await storesOf(t, 'crud', crud)
  const update = stores.teleconsultations.update.bind(stores.teleconsultations)
  let paused = false
  let resume = (): void => {}
  const resumed = new Promise<void>(resolve => { resume = resolve })
  stores.teleconsultations.update = async (...args) => {
    paused = true
    await resumed
    return await update(...args)
  }
  const contexts = [await setup(t, { emulator, stores }), await setup(t, { store: 'crud', emulator, crud })]
  const apps = contexts.map(c => c.app)
  const reapers = contexts.map(c => c.services.reaper)
  const id: string = (await apps[1].inject({ method: 'POST', url: '/teleconsultation', payload: body({ start: isoFromNow(HOUR) }) })).json().roomId
  const patching = apps[0].inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { duration_in_seconds: 900 } })
  await waitFor('the PATCH to have its new room', () => paused)
  t.equal(emulator.liveRooms().length, 2, 'the old room and the new one')
  const deleted = await apps[1].inject({ method: 'DELETE', url: `/teleconsultation/${id}` })
  t.equal(deleted.statusCode, 204)
  resume()
  const patched = await patching
  t.equal(patched.statusCode, 404)
  t.same(patched.json(), { error: `Room with id ${id} not found on CRUD` })
  await Promise.all(reapers.map(async reaper => { await reaper.idle() }))
  t.equal(crud.document('teleconsultations', id)?.__STATE__, 'TRASH')
  t.equal(emulator.liveRooms().length, 0, 'the PATCH\'s new room was deleted too')
})

t.test('a new participant seen by both replicas at once gets one Kaleyra user and one map row', async t => {
  for (const uniqueUserIds of [true, false]) {
    const { emulator, crud, apps } = await replicas(t, await startCrud(t, { uniqueUserIds }))
    const answers = await Promise.all(apps.flatMap(app => Array.from({ length: 3 }, async (_, i) => await app.inject({
      method: 'POST',
      url: '/teleconsultation',
      payload: body({ participants: [doctor('everywhere'), patient(`p-${i}`)] })
    }))))
    t.ok(answers.every(a => a.statusCode === 201), answers.map(a => a.statusCode).join(','))
    t.equal(emulator.users().filter(u => u.userId === kaleyraUserIdFor('everywhere')).length, 1)
    const rows = crud.documents('teleconsultations_users').filter(r => r.receivedUserId === 'everywhere')
    if (uniqueUserIds) t.equal(rows.length, 1, 'the unique index keeps one row')
    t.ok(rows.every(r => r.bandyerId === kaleyraUserIdFor('everywhere')), 'every row maps to the same Kaleyra user')
    const stored = crud.documents('teleconsultations').flatMap(d => d.participants as Array<{ userId: string, userBandyerId: string }>)
    t.ok(stored.filter(p => p.userId === 'everywhere').every(p => p.userBandyerId === kaleyraUserIdFor('everywhere')))
  }
})
