import t from 'tap'
import { eachStore, KALEYRA_FAULT_TIMEOUT, setup, startEmulator } from '../helpers/app.js'
import { as, body, doctor } from '../helpers/fixtures.js'
import { startKaleyraProxy } from '../helpers/kaleyra-proxy.js'
import { setTimeout as sleep } from 'node:timers/promises'

const ENABLED = { TELECONSULTATION_DELETE_UPLOADS: 'true' }

async function createTeleconsultation (app: Awaited<ReturnType<typeof setup>>['app'], payload = body()): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload })
  if (res.statusCode !== 201) throw new Error(`create answered ${res.statusCode}: ${res.body}`)
  return res.json().roomId
}

eachStore(t, 'disabled (the default): 204 and nothing is looked up or deleted', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  const id = await createTeleconsultation(app)
  emulator.addUploads(emulator.liveRooms()[0].roomId, 3)
  const before = emulator.requests().length
  const res = await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}/uploads`, headers: as('patient-1') })
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  t.equal(emulator.requests().length, before, 'no Kaleyra call')
  t.equal(emulator.uploadsOf(emulator.liveRooms()[0].roomId).length, 3)
})

eachStore(t, 'enabled: every upload of the room is deleted, across several pages, and only those', async (t, store) => {
  const { app, emulator } = await setup(t, { store, env: ENABLED })
  const id = await createTeleconsultation(app)
  const other = await createTeleconsultation(app, body({ participants: [doctor('doctor-2'), { userId: 'p2', groups: ['patient'], fullName: 'P 2' }] }))
  const [room, otherRoom] = emulator.liveRooms()
  emulator.addUploads(room.roomId, 230)
  emulator.addUploads(otherRoom.roomId, 4)

  const res = await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}/uploads`, headers: as('doctor-1') })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { total: 230, deleted: 230 })
  t.equal(emulator.uploadsOf(room.roomId).length, 0)
  t.equal(emulator.uploadsOf(otherRoom.roomId).length, 4, 'another room keeps its files')
  const pages = emulator.requests().filter(r => r.method === 'GET' && r.path === '/v2/uploads')
  t.equal(pages.length, 3, '230 uploads are listed in three pages')
  t.ok(pages.every(p => p.query.room_id === room.roomId))

  const again = await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}/uploads`, headers: as('patient-1') })
  t.same(again.json(), { total: 0, deleted: 0 }, 'repeating is harmless')
  t.ok(other)
})

eachStore(t, 'deletions run concurrently, never more than 8 at once', async (t, store) => {
  const emulator = await startEmulator(t)
  const proxy = await startKaleyraProxy(emulator.url)
  t.teardown(() => proxy.close())
  const { app } = await setup(t, { store, emulator, env: { ...ENABLED, BANDYER_BASE_URL: proxy.url } })
  const id = await createTeleconsultation(app)
  emulator.addUploads(emulator.liveRooms()[0].roomId, 40)
  emulator.faults.add({ method: 'DELETE', path: '/v2/uploads/', kind: 'latency', ms: 30 })
  const res = await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}/uploads`, headers: as('doctor-1') })
  t.same(res.json(), { total: 40, deleted: 40 })
  const concurrent = proxy.maxConcurrent(/^\/v2\/uploads\/upload_/)
  t.ok(concurrent > 1, `concurrent deletions (${concurrent})`)
  t.ok(concurrent <= 8, `bounded (${concurrent})`)
})

eachStore(t, 'a partial failure still answers 200, with deleted < total', async (t, store) => {
  const { app, emulator } = await setup(t, { store, env: ENABLED })
  const id = await createTeleconsultation(app)
  const roomId = emulator.liveRooms()[0].roomId
  const [stuck] = emulator.addUploads(roomId, 5)
  emulator.faults.add({ method: 'DELETE', path: `/v2/uploads/${stuck}`, kind: 'status', status: 503 })
  const res = await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}/uploads`, headers: as('doctor-1') })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { total: 5, deleted: 4 })
  t.same(emulator.uploadsOf(roomId), [stuck])

  emulator.faults.clear()
  const retry = await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}/uploads`, headers: as('doctor-1') })
  t.same(retry.json(), { total: 1, deleted: 1 }, 'repeating the request later finishes the job')
})

eachStore(t, 'participants only; unknown ids are 404; no room means nothing to delete', async (t, store) => {
  const { app, emulator } = await setup(t, { store, env: ENABLED })
  const id = await createTeleconsultation(app)
  emulator.addUploads(emulator.liveRooms()[0].roomId, 2)

  for (const headers of [as('someone-else'), {}]) {
    const res = await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}/uploads`, headers })
    t.equal(res.statusCode, 401)
    t.same(res.json(), { error: 'Unauthorized user' })
  }
  t.equal(emulator.uploadsOf(emulator.liveRooms()[0].roomId).length, 2, 'nothing deleted for strangers')

  const missing = await app.inject({ method: 'DELETE', url: '/teleconsultation/0123456789abcdef01234567/uploads', headers: as('doctor-1') })
  t.equal(missing.statusCode, 404)
  t.same(missing.json(), { error: 'Room with id 0123456789abcdef01234567 not found on CRUD' })

  const bad = await app.inject({ method: 'DELETE', url: '/teleconsultation/not%20an%20id/uploads', headers: as('doctor-1') })
  t.equal(bad.statusCode, 400)

  const waiting = await createTeleconsultation(app, body({ participants: [doctor()], number: 2 }))
  const before = emulator.requests().length
  const none = await app.inject({ method: 'DELETE', url: `/teleconsultation/${waiting}/uploads`, headers: as('doctor-1') })
  t.equal(none.statusCode, 200)
  t.same(none.json(), { total: 0, deleted: 0 })
  t.equal(emulator.requests().length, before, 'no Kaleyra call without a room')
})

eachStore(t, 'Kaleyra failing to list the uploads: 502, or 504 when it does not answer', async (t, store) => {
  const { app, emulator } = await setup(t, { store, env: { ...ENABLED, ...KALEYRA_FAULT_TIMEOUT } })
  const id = await createTeleconsultation(app)
  emulator.addUploads(emulator.liveRooms()[0].roomId, 2)

  emulator.faults.add({ method: 'GET', path: '/v2/uploads', kind: 'status', status: 500 })
  const failed = await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}/uploads`, headers: as('doctor-1') })
  t.equal(failed.statusCode, 502)
  t.same(failed.json(), { error: 'Kaleyra service error' })

  emulator.faults.clear()
  emulator.faults.add({ method: 'GET', path: '/v2/uploads', kind: 'hang', times: 1 })
  const slow = await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}/uploads`, headers: as('doctor-1') })
  t.equal(slow.statusCode, 504)
  t.same(slow.json(), { error: 'Kaleyra service timeout' })
  t.equal(emulator.uploadsOf(emulator.liveRooms()[0].roomId).length, 2, 'nothing deleted when the list failed')
})

t.test('enabled, Kaleyra slow or hanging on deletions: 200 with deleted < total at the route deadline; a later call deletes the rest', async t => {
  const { app, emulator } = await setup(t, { env: { ...ENABLED, ...KALEYRA_FAULT_TIMEOUT, UPLOADS_CLEANUP_DEADLINE_MS: '1500' } })
  const id = await createTeleconsultation(app)
  const room = emulator.liveRooms()[0].roomId
  emulator.addUploads(room, 250)
  emulator.faults.add({ method: 'DELETE', path: '/v2/uploads/', kind: 'hang' })
  const hung = await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}/uploads`, headers: as('doctor-1') })
  t.equal(hung.statusCode, 200)
  t.same(hung.json(), { total: 250, deleted: 0 })
  const tried = emulator.requests().filter(r => r.method === 'DELETE' && r.path.startsWith('/v2/uploads/')).length
  t.ok(tried < 250, `no deletion starts after the deadline (${tried} tried)`)

  emulator.faults.clear()
  emulator.faults.add({ method: 'DELETE', path: '/v2/uploads/', kind: 'latency', ms: 100 })
  const slow = await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}/uploads`, headers: as('doctor-1') })
  t.equal(slow.statusCode, 200)
  const { total, deleted } = slow.json()
  // A hung deletion retried once the hang was lifted may already have taken effect.
  t.ok(total <= 250 && total >= 250 - tried, `the files left are listed (${total as number})`)
  t.ok(deleted > 0 && deleted < total, `some deleted, not all (${deleted})`)
  emulator.faults.clear()
  // Deletions still running at the deadline (and retries of the hung ones) finish in the
  // background: wait until the files left stop changing, so the next call's listing does not race
  // them.
  const settled = async (): Promise<void> => {
    let last = -1
    let still = 0
    for (let i = 0; i < 150 && still < 5; i++) {
      const now = emulator.uploadsOf(room).length
      still = now === last ? still + 1 : 0
      last = now
      await sleep(200)
    }
  }
  await settled()
  // Later calls delete the rest; each makes progress within its own deadline (a loaded machine
  // may need more than one call for the ~200 files left).
  for (let call = 1; emulator.uploadsOf(room).length > 0 && call <= 10; call++) {
    const left = emulator.uploadsOf(room).length
    const later = await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}/uploads`, headers: as('doctor-1') })
    t.equal(later.statusCode, 200)
    t.ok(later.json().total <= left, `a later call lists at most what is left (${later.json().total as number} of ${left})`)
    t.ok(later.json().deleted > 0, `later call ${call} deletes some of the ${left} left`)
    await settled()
  }
  t.equal(emulator.uploadsOf(room).length, 0)
})
