import t from 'tap'
import type { KaleyraEmulator } from '../../src/emulator/index.js'
import type { Stores } from '../../src/store/types.js'
import { setup, startEmulator, type StoreKind, type Tap } from '../helpers/app.js'
import { startCrud } from '../helpers/crud.js'
import { as, body, HOUR, isoFromNow } from '../helpers/fixtures.js'
import { startLostAnswerProxy, type LostAnswerProxy, type LostAnswerRule } from '../helpers/lost-answer-proxy.js'
import type { FakeCrudService } from '../fakes/crud-service.js'
import { waitFor } from '../helpers/wait.js'

// Lost answers on every write step of create, room replacement and delete, against both stores:
// the upstream (Kaleyra, the CRUD Service) acts, its answer never reaches the service. Whatever
// the first answer, a client retry converges: no orphan room, no lost record, nothing pending.

type Upstream = 'kaleyra' | 'crud'
interface Step { name: string, upstream: Upstream, rule: LostAnswerRule }

const ITEM = /^\/teleconsultations\/[a-f0-9]{24}$/

const createSteps: Step[] = [
  { name: 'Kaleyra room creation', upstream: 'kaleyra', rule: { method: 'POST', path: /^\/v2\/rooms$/ } },
  { name: 'Kaleyra user creation', upstream: 'kaleyra', rule: { method: 'POST', path: /^\/v2\/users$/ } },
  { name: 'CRUD insert', upstream: 'crud', rule: { method: 'POST', path: /^\/teleconsultations\/$/ } },
  { name: 'CRUD user-id map insert', upstream: 'crud', rule: { method: 'POST', path: /^\/teleconsultations_users\/$/ } }
]
const patchSteps: Step[] = [
  { name: 'Kaleyra creation of the new room', upstream: 'kaleyra', rule: { method: 'POST', path: /^\/v2\/rooms$/ } },
  { name: 'Kaleyra deletion of the old room', upstream: 'kaleyra', rule: { method: 'DELETE', path: /^\/v2\/rooms\// } },
  { name: 'CRUD update', upstream: 'crud', rule: { method: 'PATCH', path: ITEM } }
]
const deleteSteps: Step[] = [
  { name: 'CRUD mark as being deleted', upstream: 'crud', rule: { method: 'PATCH', path: ITEM } },
  { name: 'Kaleyra room deletion', upstream: 'kaleyra', rule: { method: 'DELETE', path: /^\/v2\/rooms\// } },
  { name: 'CRUD trash', upstream: 'crud', rule: { method: 'POST', path: /^\/teleconsultations\/[a-f0-9]{24}\/state$/ } }
]

async function lossySetup (t: Tap, store: StoreKind) {
  const emulator = await startEmulator(t)
  const kaleyra = await startLostAnswerProxy(emulator.url)
  t.teardown(() => kaleyra.close())
  const env: Record<string, string> = { BANDYER_BASE_URL: kaleyra.url }
  let crudProxy: LostAnswerProxy | undefined
  let crudFake: FakeCrudService | undefined
  if (store === 'crud') {
    crudFake = await startCrud(t)
    crudProxy = await startLostAnswerProxy(crudFake.url)
    t.teardown(() => crudProxy?.close())
    env.CRUD_SERVICE_URL = crudProxy.url
  }
  const ctx = await setup(t, { store, emulator, crud: crudFake, env })
  const proxies = { kaleyra, crud: crudProxy }
  return { ...ctx, proxies }
}

/**
 * The records known by id: live ones (not deleting) point to exactly the live Kaleyra rooms, and none has a deletion
 * pending.
 */
async function consistent (emulator: KaleyraEmulator, stores: Stores, ids: string[]): Promise<boolean> {
  const records = await Promise.all(ids.map(async id => await stores.teleconsultations.get(id).catch(() => null)))
  if (records.some(r => r !== null && (r.pendingRoomDeletions.length > 0 || r.teleconsultationState === 'DELETING'))) return false
  const pointed = new Set(records.flatMap(r => r?.bandyerRoomId ?? []))
  const live = emulator.liveRooms().map(r => r.roomId)
  return live.length === pointed.size && live.every(id => pointed.has(id))
}

/** Sends until the answer is not a 5xx (a client retrying), at most 4 times; the answers in order. */
async function retrying (send: () => Promise<{ statusCode: number }>): Promise<number[]> {
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) {
    const res = await send()
    statuses.push(res.statusCode)
    if (res.statusCode < 500) break
  }
  return statuses
}

for (const store of ['memory', 'crud'] as StoreKind[]) {
  for (const step of createSteps.filter(s => store === 'crud' || s.upstream === 'kaleyra')) {
    t.test(`POST, the answer of the ${step.name} lost [${store} store]: a retry converges, no orphan, no lost record`, async t => {
      const { app, emulator, stores, proxies, services } = await lossySetup(t, store)
      proxies[step.upstream]?.lose(step.rule)
      const ids: string[] = []
      const statuses = await retrying(async () => {
        const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
        if (res.statusCode === 201) ids.push(res.json().roomId as string)
        return res
      })
      t.equal(proxies[step.upstream]?.lost().length, 1, 'the answer was lost')
      t.equal(statuses.at(-1), 201, `created in the end (${statuses.join(', ')})`)
      await services.reaper.idle()
      await waitFor('Kaleyra and the store to agree', async () => await consistent(emulator, stores, ids))
      t.equal(emulator.liveRooms().length, 1, 'one live room: the created record\'s')
      const got = await app.inject({ method: 'GET', url: `/teleconsultation/${ids[0]}`, headers: as('doctor-1') })
      t.equal(got.statusCode, 200, 'the record answered 201 is there')
    })
  }

  for (const step of patchSteps.filter(s => store === 'crud' || s.upstream === 'kaleyra')) {
    t.test(`PATCH replacing the room, the answer of the ${step.name} lost [${store} store]: a retry converges on the new room`, async t => {
      const { app, emulator, stores, proxies, services } = await lossySetup(t, store)
      const id: string = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ start: isoFromNow(HOUR) }) })).json().roomId
      const before = (await stores.teleconsultations.get(id))?.bandyerRoomId
      proxies[step.upstream]?.lose(step.rule)
      const start = isoFromNow(2 * HOUR)
      const statuses = await retrying(async () => await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { start_date: start, duration_in_seconds: 3600 } }))
      t.equal(proxies[step.upstream]?.lost().length, 1, 'the answer was lost')
      t.equal(statuses.at(-1), 204, `changed in the end (${statuses.join(', ')})`)
      await services.reaper.idle()
      await waitFor('Kaleyra and the store to agree', async () => await consistent(emulator, stores, [id]))
      const after = await stores.teleconsultations.get(id)
      t.equal(after?.startDate, start, 'the change is stored')
      t.not(after?.bandyerRoomId, before, 'a new room')
      t.same(emulator.liveRooms().map(r => r.roomId), [after?.bandyerRoomId], 'the only live room is the stored one')
    })
  }

  for (const step of deleteSteps.filter(s => store === 'crud' || s.upstream === 'kaleyra')) {
    t.test(`DELETE, the answer of the ${step.name} lost [${store} store]: a retry converges, no room left, 404 after`, async t => {
      const { app, emulator, stores, proxies, services } = await lossySetup(t, store)
      const id: string = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })).json().roomId
      proxies[step.upstream]?.lose(step.rule)
      const statuses = await retrying(async () => await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}` }))
      t.equal(proxies[step.upstream]?.lost().length, 1, 'the answer was lost')
      t.ok([204, 404].includes(statuses.at(-1) ?? 0), `deleted in the end (${statuses.join(', ')})`)
      await services.reaper.idle()
      await waitFor('no room left', async () => await consistent(emulator, stores, [id]) && emulator.liveRooms().length === 0)
      t.equal((await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('doctor-1') })).statusCode, 404)
    })
  }
}
