import { UpstreamError } from '../../upstream/errors.js'
import type { HeldIdempotencyRecord, IdempotencyRecord, IdempotencyState, IdempotencyStore, IdempotentAnswer, StoreContext } from '../types.js'
import type { CrudCollection, CrudDocument } from './client.js'

const STATES: readonly IdempotencyState[] = ['PENDING', 'DONE', 'RELEASED']

function holderFromDocument (doc: CrudDocument): HeldIdempotencyRecord | null {
  const { key, fingerprint, reservationId, state, expiresAt, statusCode, response } = doc
  if (typeof key !== 'string' || typeof fingerprint !== 'string' || typeof reservationId !== 'string') return null
  if (typeof state !== 'string' || !STATES.includes(state as IdempotencyState)) return null
  const expires = typeof expiresAt === 'string' ? Date.parse(expiresAt) : NaN
  // A date it cannot read counts as expired: the key is then simply free.
  const record: HeldIdempotencyRecord = {
    id: doc._id,
    key,
    fingerprint,
    reservationId,
    state: state as IdempotencyState,
    expiresAt: new Date(Number.isNaN(expires) ? 0 : expires).toISOString()
  }
  if (typeof statusCode === 'number') {
    const answer: IdempotentAnswer = { statusCode }
    if (typeof response === 'object' && response !== null && !Array.isArray(response)) answer.body = response as Record<string, unknown>
    record.answer = answer
  }
  return record
}

function reservationFields (record: IdempotencyRecord): Record<string, unknown> {
  return {
    key: record.key,
    fingerprint: record.fingerprint,
    reservationId: record.reservationId,
    state: record.state,
    expiresAt: record.expiresAt
  }
}

/**
 * Idempotency keys in a CRUD Service collection with a unique index on `key` (two replicas
 * reserving one key: the second insert is a 409) and a TTL index on `expiresAt`; expiry is also
 * checked on read, since MongoDB removes expired documents only about once a minute.
 * docs/crud-collections.md, "Idempotency keys".
 */
export function createCrudIdempotencyStore (opts: {
  collection: CrudCollection
  onClose?: () => Promise<void>
}): IdempotencyStore {
  const { collection } = opts

  async function holderOf (key: string, ctx?: StoreContext): Promise<HeldIdempotencyRecord | null> {
    const [doc] = await collection.list({ filter: { key }, limit: 1 }, ctx)
    return doc === undefined ? null : holderFromDocument(doc)
  }

  /** A conditional change of a reservation: retried safely, since it applies only while the reservation is the same. */
  async function change (
    id: string,
    reservationId: string,
    set: Record<string, unknown>,
    unset: string[],
    ctx?: StoreContext
  ): Promise<boolean> {
    const update: Record<string, unknown> = { $set: set }
    if (unset.length > 0) update.$unset = Object.fromEntries(unset.map(field => [field, true]))
    const { doc } = await collection.patchById(id, update, { reservationId }, ctx, true)
    return doc !== null
  }

  return {
    async reserve (record, ctx) {
      for (let attempt = 1; ; attempt++) {
        let inserted: { id: string } | 'duplicate'
        try {
          inserted = await collection.insert(reservationFields(record), ctx)
        } catch (err) {
          if (!(err instanceof UpstreamError && err.ambiguous)) throw err
          // The answer was lost: whose reservation is there, if any?
          const holder = await holderOf(record.key, ctx).catch(() => null)
          if (holder === null) throw err
          return holder.reservationId === record.reservationId
            ? { reserved: true, id: holder.id }
            : { reserved: false, holder }
        }
        if (inserted !== 'duplicate') return { reserved: true, id: inserted.id }
        const holder = await holderOf(record.key, ctx)
        if (holder !== null) return { reserved: false, holder }
        // Removed (expired) between our insert and our read: insert again.
        if (attempt >= 3) throw new UpstreamError({ target: 'crud', operation: 'idempotency.insert', failure: 'status', upstreamStatus: 409 })
      }
    },

    async takeOver (holder, record, ctx) {
      return await change(holder.id, holder.reservationId, reservationFields(record), ['statusCode', 'response'], ctx)
    },

    async complete (id, reservationId, answer, ctx) {
      await change(id, reservationId, { state: 'DONE', statusCode: answer.statusCode, ...(answer.body !== undefined ? { response: answer.body } : {}) }, [], ctx)
    },

    async release (id, reservationId, ctx) {
      await change(id, reservationId, { state: 'RELEASED' }, [], ctx)
    },

    async ping () {
      await collection.ping()
    },

    async close () {
      await opts.onClose?.()
    }
  }
}
