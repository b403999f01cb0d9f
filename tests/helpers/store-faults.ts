import type { Stores, TeleconsultationStore, UserMapStore } from '../../src/store/types.js'
import { UpstreamError } from '../../src/upstream/errors.js'

export type StoreMethod = 'insert' | 'get' | 'update' | 'remove' | 'find' | 'mapInsert'

/** Wraps stores so a test can make the next call of a method fail like an unreachable CRUD Service. */
export function faultyStores (inner: Stores) {
  const failing = new Map<StoreMethod, number>()
  function maybeFail (method: StoreMethod, operation: string): void {
    const left = failing.get(method) ?? 0
    if (left > 0) {
      failing.set(method, left - 1)
      throw new UpstreamError({ target: 'crud', operation, failure: 'network', code: 'ECONNRESET' })
    }
  }
  const t = inner.teleconsultations
  const teleconsultations: TeleconsultationStore = {
    insert: async (...args) => { maybeFail('insert', 'insert'); return await t.insert(...args) },
    get: async (...args) => { maybeFail('get', 'get'); return await t.get(...args) },
    update: async (...args) => { maybeFail('update', 'update'); return await t.update(...args) },
    remove: async (...args) => { maybeFail('remove', 'remove'); return await t.remove(...args) },
    listWithPendingRoomDeletions: async (...args) => await t.listWithPendingRoomDeletions(...args),
    ping: async () => { await t.ping() },
    close: async () => { await t.close() }
  }
  const m = inner.userMap
  const userMap: UserMapStore = {
    find: async (...args) => { maybeFail('find', 'find'); return await m.find(...args) },
    insert: async (...args) => { maybeFail('mapInsert', 'insert'); return await m.insert(...args) },
    ping: async () => { await m.ping() },
    close: async () => { await m.close() }
  }
  return {
    stores: { teleconsultations, userMap } satisfies Stores,
    failNext (method: StoreMethod, times = 1): void { failing.set(method, times) },
    clear (): void { failing.clear() }
  }
}
