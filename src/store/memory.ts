import { randomBytes } from 'node:crypto'
import { createMemoryOutboxStore } from './outbox.js'
import { StoreConflictError, StoreDuplicateError, StoreNotFoundError } from './errors.js'
import type {
  HeldIdempotencyRecord,
  IdempotencyStore,
  Stores,
  TeleconsultationData,
  TeleconsultationRecord,
  TeleconsultationStore,
  UserMapRecord,
  UserMapStore
} from './types.js'

/** Ids look like the CRUD Service's ObjectIds, so clients see the same format in both modes. */
export function newObjectId (): string {
  return randomBytes(12).toString('hex')
}

/**
 * A deep copy of `value` that nobody can change: what the memory stores keep and hand out. A
 * record read is the stored value itself, not a copy made per read (a poll reads one per
 * request); a caller that tried to change it would get a TypeError, never a silent edit of the
 * store. Writes replace a record with a new frozen one.
 */
function frozenCopy<T> (value: T): T {
  return deepFreeze(structuredClone(value))
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}

export function createMemoryTeleconsultationStore (): TeleconsultationStore {
  const records = new Map<string, TeleconsultationRecord>()
  return {
    async insert (data: TeleconsultationData) {
      const record: TeleconsultationRecord = frozenCopy({ ...data, id: newObjectId(), version: 1 })
      records.set(record.id, record)
      return record
    },
    async get (id) {
      return records.get(id) ?? null
    },
    async update (id, expectedVersion, changes) {
      const current = records.get(id)
      if (current === undefined) throw new StoreNotFoundError(id)
      if (current.version !== expectedVersion) throw new StoreConflictError(id)
      // The fields not changed are shared with the previous value: they are frozen too.
      const next: TeleconsultationRecord = Object.freeze({
        ...current, ...frozenCopy(changes), id, version: current.version + 1
      })
      records.set(id, next)
      return next
    },
    async remove (id) {
      return records.delete(id)
    },
    async listWithPendingRoomDeletions (limit) {
      const found: TeleconsultationRecord[] = []
      for (const record of records.values()) {
        if (record.pendingRoomDeletions.length > 0 || record.teleconsultationState === 'DELETING') found.push(record)
        if (found.length >= limit) break
      }
      return found
    },
    // Removal is immediate in memory: nothing is ever trashed.
    async listTrashedWithRooms () { return [] },
    async releaseTrashed () {},
    async findByRoomId (roomId) {
      for (const record of records.values()) if (record.bandyerRoomId === roomId) return record
      return null
    },
    async listRoomsToClose (endedBefore, limit) {
      const found: TeleconsultationRecord[] = []
      const before = Date.parse(endedBefore)
      for (const record of records.values()) {
        if (found.length >= limit) break
        if (record.bandyerRoomId !== null && record.roomClosedAt == null && Date.parse(record.endDate) < before) {
          found.push(record)
        }
      }
      return found
    },
    async ping () {},
    async close () {}
  }
}

export function createMemoryUserMapStore (): UserMapStore {
  const rows = new Map<string, UserMapRecord>()
  return {
    async find (receivedUserId) {
      return rows.get(receivedUserId) ?? null
    },
    async insert (record) {
      if (rows.has(record.receivedUserId)) throw new StoreDuplicateError(record.receivedUserId)
      const row = frozenCopy(record)
      rows.set(record.receivedUserId, row)
      return row
    },
    async ping () {},
    async close () {}
  }
}

// ---- Idempotency keys ----

/**
 * Idempotency keys in a map whose insertion order is their expiry order (one lifetime for all,
 * a take-over re-inserts), so expired keys are dropped from the front as new ones come.
 */
export function createMemoryIdempotencyStore (now: () => number = Date.now): IdempotencyStore {
  const held = new Map<string, HeldIdempotencyRecord>()

  function dropExpired (): void {
    for (const [key, record] of held) {
      if (Date.parse(record.expiresAt) > now()) break
      held.delete(key)
    }
  }

  function current (id: string, reservationId: string): HeldIdempotencyRecord | undefined {
    const record = held.get(id)
    return record?.reservationId === reservationId ? record : undefined
  }

  return {
    async reserve (record) {
      dropExpired()
      const holder = held.get(record.key)
      if (holder !== undefined) return { reserved: false, holder: structuredClone(holder) }
      held.set(record.key, { ...structuredClone(record), id: record.key })
      return { reserved: true, id: record.key }
    },
    async takeOver (holder, record) {
      if (current(holder.id, holder.reservationId) === undefined) return false
      held.delete(holder.id)
      held.set(holder.id, { ...structuredClone(record), id: holder.id })
      return true
    },
    async complete (id, reservationId, answer) {
      const record = current(id, reservationId)
      if (record !== undefined) held.set(id, { ...record, state: 'DONE', answer: structuredClone(answer) })
    },
    async release (id, reservationId) {
      const record = current(id, reservationId)
      if (record !== undefined) held.set(id, { ...record, state: 'RELEASED' })
    },
    async ping () {},
    async close () {}
  }
}

export function createMemoryStores (): Stores {
  return {
    teleconsultations: createMemoryTeleconsultationStore(),
    userMap: createMemoryUserMapStore(),
    idempotency: createMemoryIdempotencyStore(),
    outbox: createMemoryOutboxStore()
  }
}
