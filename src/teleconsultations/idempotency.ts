import { createHash, randomUUID } from 'node:crypto'
import createError from '@fastify/error'
import type { HeldIdempotencyRecord, IdempotencyRecord, IdempotencyStore, IdempotentAnswer, StoreContext } from '../store/types.js'
import { ConflictError } from '../lib/errors.js'

/** How long a key is remembered (the issue's and the IETF draft's usual window). */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000

export const IdempotencyKeyReused = createError('TCS_IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for another request: use a new key for a different request', 422)
export const IN_PROGRESS_MESSAGE = 'A request with this Idempotency-Key is in progress'

/** What identifies one use of a key: who asked, with which key, for what. */
export interface IdempotentRequest {
  /** The client's Idempotency-Key header. */
  clientKey: string
  /** The caller's id (null: anonymous; anonymous callers share one space of keys). */
  callerId: string | null
  /** The route and its target, e.g. `POST /teleconsultation/:id/participants/data` and the id. */
  operation: string
  target?: string
  /** The validated body. */
  body: unknown
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` are the same request. */
function canonical (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

function sha256 (text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

export type Idempotency = ReturnType<typeof createIdempotency>

/**
 * Idempotency-Key on creations. Order: reserve the key (a conditional insert: one request per
 * key across replicas), do the work, record its answer; a failure releases the key so a retry
 * runs again. A repeat with the same request gets the recorded answer, one with another request
 * 422, one while the first still runs 409. A key whose answer could not be recorded (store down
 * after the creation) stays "in progress" until it expires rather than risk a second creation.
 */
export function createIdempotency (deps: { store: IdempotencyStore, now?: () => number, ttlMs?: number }) {
  const { store } = deps
  const now = deps.now ?? Date.now
  const ttlMs = deps.ttlMs ?? IDEMPOTENCY_TTL_MS

  function isFree (holder: HeldIdempotencyRecord): boolean {
    return holder.state === 'RELEASED' || Date.parse(holder.expiresAt) <= now()
  }

  /** Takes the key for this request, or settles the request from whoever holds it. */
  async function acquire (
    record: IdempotencyRecord,
    ctx: StoreContext
  ): Promise<{ id: string } | { replay: IdempotentAnswer }> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const result = await store.reserve(record, ctx)
      if (result.reserved) return { id: result.id }
      const { holder } = result
      if (isFree(holder)) {
        if (await store.takeOver(holder, record, ctx)) return { id: holder.id }
        continue
      }
      if (holder.fingerprint !== record.fingerprint) throw new IdempotencyKeyReused()
      if (holder.state === 'DONE' && holder.answer !== undefined) return { replay: holder.answer }
      break
    }
    throw new ConflictError(IN_PROGRESS_MESSAGE)
  }

  return {
    /** Runs `work` once per key and request; `replayed` says the answer is the recorded one. */
    async run (
      request: IdempotentRequest,
      ctx: StoreContext,
      work: () => Promise<IdempotentAnswer>
    ): Promise<IdempotentAnswer & { replayed: boolean }> {
      const record: IdempotencyRecord = {
        key: sha256(canonical([request.callerId, request.clientKey])),
        fingerprint: sha256(canonical([request.operation, request.target ?? null, request.body])),
        reservationId: randomUUID(),
        state: 'PENDING',
        expiresAt: new Date(now() + ttlMs).toISOString()
      }
      const acquired = await acquire(record, ctx)
      if ('replay' in acquired) {
        ctx.log.info({ idempotencyReplay: true }, 'repeated request answered from its Idempotency-Key')
        return { ...acquired.replay, replayed: true }
      }
      let answer: IdempotentAnswer
      try {
        answer = await work()
      } catch (err) {
        await store.release(acquired.id, record.reservationId, ctx).catch((releaseErr: unknown) => {
          ctx.log.warn({ err: releaseErr }, 'could not release an Idempotency-Key after a failed request: repeats answer 409 until it expires')
        })
        throw err
      }
      await store.complete(acquired.id, record.reservationId, answer, ctx).catch((completeErr: unknown) => {
        ctx.log.warn({ err: completeErr }, 'could not record the answer of an Idempotency-Key: repeats answer 409 until it expires')
      })
      return { ...answer, replayed: false }
    }
  }
}
