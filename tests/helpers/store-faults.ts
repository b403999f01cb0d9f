import type { Stores, TeleconsultationStore, UserMapStore } from '../../src/store/types.js'
import { UpstreamError } from '../../src/upstream/errors.js'

export type StoreMethod = 'insert' | 'get' | 'update' | 'remove' | 'find' | 'mapInsert'

/**
 * Wraps stores so a test can make the next call of a method fail like an unreachable CRUD Service,
 * and count the calls that went through (`succeeded('insert')`: records written).
 */
export function faultyStores (inner: Stores) {
  const failing = new Map<StoreMethod, number>()
  const done = new Map<StoreMethod, number>()
  function maybeFail (method: StoreMethod, operation: string): void {
    const left = failing.get(method) ?? 0
    if (left > 0) {
      failing.set(method, left - 1)
      throw new UpstreamError({ target: 'crud', operation, failure: 'network', code: 'ECONNRESET' })
    }
  }
  async function counted<T> (method: StoreMethod, call: () => Promise<T>): Promise<T> {
    const result = await call()
    done.set(method, (done.get(method) ?? 0) + 1)
    return result
  }
  const t = inner.teleconsultations
  const teleconsultations: TeleconsultationStore = {
    insert: async (...args) => { maybeFail('insert', 'insert'); return await counted('insert', async () => await t.insert(...args)) },
    get: async (...args) => { maybeFail('get', 'get'); return await counted('get', async () => await t.get(...args)) },
    update: async (...args) => { maybeFail('update', 'update'); return await counted('update', async () => await t.update(...args)) },
    remove: async (...args) => { maybeFail('remove', 'remove'); return await counted('remove', async () => await t.remove(...args)) },
    listWithPendingRoomDeletions: async (...args) => await t.listWithPendingRoomDeletions(...args),
    listTrashedWithRooms: async (...args) => await t.listTrashedWithRooms(...args),
    releaseTrashed: async (...args) => { await t.releaseTrashed(...args) },
    findByRoomId: async (...args) => await t.findByRoomId(...args),
    listRoomsToClose: async (...args) => await t.listRoomsToClose(...args),
    ping: async () => { await t.ping() },
    close: async () => { await t.close() }
  }
  const m = inner.userMap
  const userMap: UserMapStore = {
    find: async (...args) => { maybeFail('find', 'find'); return await counted('find', async () => await m.find(...args)) },
    insert: async (...args) => { maybeFail('mapInsert', 'insert'); return await counted('mapInsert', async () => await m.insert(...args)) },
    ping: async () => { await m.ping() },
    close: async () => { await m.close() }
  }
  return {
    stores: { teleconsultations, userMap, idempotency: inner.idempotency } satisfies Stores,
    failNext (method: StoreMethod, times = 1): void { failing.set(method, times) },
    /** How many calls of `method` completed without throwing. */
    succeeded (method: StoreMethod): number { return done.get(method) ?? 0 },
    clear (): void { failing.clear() }
  }
}
