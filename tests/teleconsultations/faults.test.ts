import t from 'tap'
import type { KaleyraEmulator, FaultRule } from '../../src/emulator/index.js'
import type { TeleconsultationStore } from '../../src/store/types.js'
import { eachStore, FAULT_TIMEOUT_MS, KALEYRA_FAULT_TIMEOUT, setup, storesOf } from '../helpers/app.js'
import { body, doctor, HOUR, isoFromNow, patient } from '../helpers/fixtures.js'
import { faultyStores, type StoreMethod } from '../helpers/store-faults.js'
import { waitFor } from '../helpers/wait.js'

/** Kaleyra and the store agree: exactly the rooms the records point to are alive. */
async function consistent (emulator: KaleyraEmulator, store: TeleconsultationStore, ids: string[]): Promise<boolean> {
  const pointed = new Set<string>()
  for (const id of ids) {
    const record = await store.get(id)
    if (record?.bandyerRoomId != null) pointed.add(record.bandyerRoomId)
  }
  const live = new Set(emulator.liveRooms().map(r => r.roomId))
  return live.size === pointed.size && [...live].every(id => pointed.has(id))
}

/** A hang, or a latency past the deadline, ends with a timeout: those tests get a short one. */
const timeoutFor = (rule: FaultRule | undefined): Record<string, string> => rule?.kind === 'hang' || rule?.kind === 'latency' ? KALEYRA_FAULT_TIMEOUT : {}

/**
 * After a latency fault, Kaleyra goes on after the service gave up: until it has answered every
 * call, a room may still appear, and "no orphan room" cannot be judged yet.
 */
const lateCallsDone = (emulator: KaleyraEmulator, rule: FaultRule | undefined): boolean =>
  rule?.kind !== 'latency' || emulator.requests().every(r => r.status !== 0)

interface CreateFault { name: string, kaleyra?: FaultRule, store?: StoreMethod, status: number }

const createFaults: CreateFault[] = [
  { name: 'user map lookup unreachable', store: 'find', status: 502 },
  { name: 'user creation answers 500', kaleyra: { method: 'POST', path: '/v2/users', kind: 'status', status: 500 }, status: 502 },
  { name: 'user creation hangs', kaleyra: { method: 'POST', path: '/v2/users', kind: 'hang' }, status: 504 },
  { name: 'user creation connection reset', kaleyra: { method: 'POST', path: '/v2/users', kind: 'reset' }, status: 502 },
  { name: 'user map unreachable', store: 'mapInsert', status: 502 },
  { name: 'room creation answers 503', kaleyra: { method: 'POST', path: '/v2/rooms', kind: 'status', status: 503 }, status: 502 },
  { name: 'room creation hangs', kaleyra: { method: 'POST', path: '/v2/rooms', kind: 'hang' }, status: 504 },
  { name: 'room creation reset before processing', kaleyra: { method: 'POST', path: '/v2/rooms', kind: 'reset' }, status: 502 },
  { name: 'room created but the answer is a 500', kaleyra: { method: 'POST', path: '/v2/rooms', kind: 'status', status: 500, phase: 'after' }, status: 502 },
  { name: 'room created but the connection is reset', kaleyra: { method: 'POST', path: '/v2/rooms', kind: 'reset', phase: 'after' }, status: 502 },
  { name: 'room created but the answer never comes', kaleyra: { method: 'POST', path: '/v2/rooms', kind: 'hang', phase: 'after' }, status: 504 },
  { name: 'room created after the client gave up', kaleyra: { method: 'POST', path: '/v2/rooms', kind: 'latency', ms: FAULT_TIMEOUT_MS + 200, times: 1 }, status: 504 },
  { name: 'storing the teleconsultation fails', store: 'insert', status: 502 }
]

for (const fault of createFaults) {
  eachStore(t, `POST with ${fault.name}: ${fault.status}, then no orphan room and no record`, async (t, store) => {
    const faulty = faultyStores(await storesOf(t, store))
    const { app, emulator } = await setup(t, { stores: faulty.stores, env: timeoutFor(fault.kaleyra) })
    if (fault.kaleyra !== undefined) emulator.faults.add(fault.kaleyra)
    if (fault.store !== undefined) faulty.failNext(fault.store)
    const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
    t.equal(res.statusCode, fault.status)
    t.match(res.json().error, fault.store !== undefined ? /^CRUD service error$/ : /^Kaleyra service (error|timeout)$/)
    t.notOk(res.body.includes(emulator.apiKey))
    emulator.faults.clear()
    await waitFor('orphan rooms to be cleaned up', () => lateCallsDone(emulator, fault.kaleyra) && emulator.liveRooms().length === 0)
    t.equal(emulator.liveRooms().length, 0, 'no orphan room in Kaleyra')
    t.equal(faulty.succeeded('insert'), 0, 'no teleconsultation record was stored')

    const again = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
    t.equal(again.statusCode, 201, 'the same request succeeds once the fault is gone')
    t.ok(await consistent(emulator, faulty.stores.teleconsultations, [again.json().roomId]))
  })
}

eachStore(t, 'POST: Kaleyra created a user but its answer was lost → the retry\'s 409 is adopted, one user, 201', async (t, store) => {
  const faulty = faultyStores(await storesOf(t, store))
  const { app, emulator } = await setup(t, { stores: faulty.stores })
  emulator.faults.add({ method: 'POST', path: '/v2/users', kind: 'reset', phase: 'after', times: 1 })
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  t.equal(res.statusCode, 201)
  t.equal(emulator.users().length, 2, 'one Kaleyra user per participant')
  t.equal(emulator.requests().filter(r => r.method === 'POST' && r.path === '/v2/users' && r.status === 409).length, 1, 'the retry met the user already there')
  t.ok(await consistent(emulator, faulty.stores.teleconsultations, [res.json().roomId]))
})

eachStore(t, 'POST: the room cannot be deleted after a failed insert → retried in background', async (t, store) => {
  const faulty = faultyStores(await storesOf(t, store))
  const { app, emulator } = await setup(t, { stores: faulty.stores })
  faulty.failNext('insert')
  emulator.faults.add({ method: 'DELETE', path: '/v2/rooms', kind: 'status', status: 500, times: 4 })
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  t.equal(res.statusCode, 502)
  await waitFor('the reaper to delete the room', () => emulator.liveRooms().length === 0)
  t.pass('room deleted by the reaper')
})

interface ReplaceFault {
  name: string
  kaleyra?: FaultRule
  store?: StoreMethod
  status: number
  payload?: Record<string, unknown>
}

/** A PATCH that adds a participant never seen before: the replacement first creates their Kaleyra user. */
const newcomer = { participants: { number: 3, data: [doctor(), patient(), patient('newcomer')] } }

const replaceFaults: ReplaceFault[] = [
  { name: 'the newcomer\'s user map lookup fails', store: 'find', payload: newcomer, status: 502 },
  { name: 'the newcomer\'s Kaleyra user creation answers 500', kaleyra: { method: 'POST', path: '/v2/users', kind: 'status', status: 500 }, payload: newcomer, status: 502 },
  { name: 'the newcomer\'s Kaleyra user creation hangs', kaleyra: { method: 'POST', path: '/v2/users', kind: 'hang' }, payload: newcomer, status: 504 },
  { name: 'the newcomer\'s Kaleyra user creation is reset', kaleyra: { method: 'POST', path: '/v2/users', kind: 'reset' }, payload: newcomer, status: 502 },
  { name: 'mapping the newcomer fails', store: 'mapInsert', payload: newcomer, status: 502 },
  { name: 'reading the record fails', store: 'get', status: 502 },
  { name: 'room creation answers 500', kaleyra: { method: 'POST', path: '/v2/rooms', kind: 'status', status: 500 }, status: 502 },
  { name: 'room creation hangs', kaleyra: { method: 'POST', path: '/v2/rooms', kind: 'hang' }, status: 504 },
  { name: 'room created but the answer is lost (reset)', kaleyra: { method: 'POST', path: '/v2/rooms', kind: 'reset', phase: 'after' }, status: 502 },
  { name: 'room created after the client gave up', kaleyra: { method: 'POST', path: '/v2/rooms', kind: 'latency', ms: FAULT_TIMEOUT_MS + 200, times: 1 }, status: 504 },
  { name: 'persisting the new room fails', store: 'update', status: 502 },
  { name: 'deleting the old room fails for a while', kaleyra: { method: 'DELETE', path: '/v2/rooms', kind: 'status', status: 503, times: 5 }, status: 204 },
  { name: 'deleting the old room hangs once', kaleyra: { method: 'DELETE', path: '/v2/rooms', kind: 'hang', times: 1 }, status: 204 }
]

for (const fault of replaceFaults) {
  eachStore(t, `PATCH replacing the room with ${fault.name}: ${fault.status}, one live room matching the record`, async (t, store) => {
    const faulty = faultyStores(await storesOf(t, store))
    const { app, emulator } = await setup(t, { stores: faulty.stores, env: timeoutFor(fault.kaleyra) })
    const id: string = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ start: isoFromNow(HOUR) }) })).json().roomId
    const before = await faulty.stores.teleconsultations.get(id)
    if (fault.kaleyra !== undefined) emulator.faults.add(fault.kaleyra)
    if (fault.store !== undefined) faulty.failNext(fault.store)
    const res = await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: fault.payload ?? { start_date: isoFromNow(2 * HOUR), duration_in_seconds: 3600 } })
    t.equal(res.statusCode, fault.status)
    const after = await faulty.stores.teleconsultations.get(id)
    if (fault.status !== 204) {
      t.same(after, before, 'a failed PATCH leaves the record as it was')
    } else {
      t.not(after?.bandyerRoomId, before?.bandyerRoomId, 'the PATCH succeeded with a new room')
    }
    emulator.faults.clear()
    await waitFor('Kaleyra and the store to agree', async () =>
      lateCallsDone(emulator, fault.kaleyra) &&
      await consistent(emulator, faulty.stores.teleconsultations, [id]) &&
      emulator.liveRooms().length === 1)
    t.equal(emulator.liveRooms().length, 1)
    await waitFor('pending deletions to be forgotten', async () => (await faulty.stores.teleconsultations.get(id))?.pendingRoomDeletions.length === 0)
    t.pass('nothing left pending')
  })
}

eachStore(t, 'a pending deletion left by a previous process is finished by the sweep', async (t, store) => {
  const stores = await storesOf(t, store)
  const { app, services, emulator } = await setup(t, { stores })
  const id: string = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ start: isoFromNow(HOUR) }) })).json().roomId
  const other: string = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ start: isoFromNow(HOUR) }) })).json().roomId
  const stale = (await stores.teleconsultations.get(other))!.bandyerRoomId!
  const record = (await stores.teleconsultations.get(id))!
  // Simulate a crash between persisting the swap and deleting the old room.
  await stores.teleconsultations.update(id, record.version, { pendingRoomDeletions: [stale] })
  await services.reaper.sweep()
  await services.reaper.idle()
  t.notOk(emulator.liveRooms().some(r => r.roomId === stale), 'the stale room is deleted')
  t.same((await stores.teleconsultations.get(id))?.pendingRoomDeletions, [])
})
