import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { UpstreamError } from '../../upstream/errors.js'
import { StoreConflictError, StoreNotFoundError } from '../errors.js'
import type { StoreContext, TeleconsultationData, TeleconsultationRecord, TeleconsultationStore } from '../types.js'
import type { CrudCollection, CrudDocument } from './client.js'
import {
  fieldUpdates, insertDocument, recordFromDocument, versionFilter, VERSION_FIELD, WRITE_ID_FIELD, writeIdOf
} from './documents.js'

export interface CrudTeleconsultationStoreOptions {
  collection: CrudCollection
  log?: FastifyBaseLogger
  /** When to look again for a document whose insert failed ambiguously (default 2 s, 15 s, 60 s). */
  lostInsertChecksMs?: number[]
  /** Called when the store closes (the shared HTTP pool). */
  onClose?: () => Promise<void>
}

function ambiguous (err: unknown): err is UpstreamError {
  return err instanceof UpstreamError && err.ambiguous
}

/**
 * Teleconsultations in a CRUD Service collection. Every write carries a fresh `lastWriteId`, which
 * makes lost answers recoverable: docs/crud-collections.md ("When an answer is lost").
 */
export class CrudTeleconsultationStore implements TeleconsultationStore {
  readonly #collection: CrudCollection
  readonly #log: FastifyBaseLogger | undefined
  readonly #lostInsertChecks: number[]
  readonly #onClose: (() => Promise<void>) | undefined
  readonly #timers = new Set<NodeJS.Timeout>()
  #closed = false

  constructor (opts: CrudTeleconsultationStoreOptions) {
    this.#collection = opts.collection
    this.#log = opts.log
    this.#lostInsertChecks = opts.lostInsertChecksMs ?? [2_000, 15_000, 60_000]
    this.#onClose = opts.onClose
  }

  async insert (data: TeleconsultationData, ctx?: StoreContext): Promise<TeleconsultationRecord> {
    const writeId = randomUUID()
    const doc = insertDocument(data, writeId)
    let id: string
    try {
      const inserted = await this.#collection.insert(doc, ctx)
      if (inserted === 'duplicate') {
        throw new UpstreamError({
          target: 'crud', operation: 'teleconsultations.insert', failure: 'status', upstreamStatus: 409
        })
      }
      id = inserted.id
    } catch (err) {
      if (!ambiguous(err)) throw err
      const found = await this.#findByWriteId(writeId, ctx).catch(() => null)
      if (found === null) {
        this.#watchLostInsert(writeId, ctx)
        throw err
      }
      id = found._id
    }
    return { ...structuredClone(data), id, version: 1 }
  }

  async get (id: string, ctx?: StoreContext): Promise<TeleconsultationRecord | null> {
    const doc = await this.#collection.getById(id, ctx)
    return doc === null ? null : recordFromDocument(doc)
  }

  async update (
    id: string,
    expectedVersion: number,
    changes: Partial<TeleconsultationData>,
    ctx?: StoreContext
  ): Promise<TeleconsultationRecord> {
    const writeId = randomUUID()
    const { set, unset } = fieldUpdates(changes)
    const update: Record<string, unknown> = {
      $set: { ...set, [VERSION_FIELD]: expectedVersion + 1, [WRITE_ID_FIELD]: writeId }
    }
    if (unset.length > 0) update.$unset = Object.fromEntries(unset.map(field => [field, true]))
    let answer: { doc: CrudDocument | null, retried: boolean }
    try {
      answer = await this.#collection.patchById(id, update, versionFilter(expectedVersion), ctx, true)
    } catch (err) {
      if (!ambiguous(err)) throw err
      return await this.#settleUpdate(id, writeId, err, ctx)
    }
    if (answer.doc !== null) return recordFromDocument(answer.doc)
    const cause = answer.retried
      ? new UpstreamError({
        target: 'crud', operation: 'teleconsultations.update', failure: 'network', ambiguous: true, code: 'answer lost'
      })
      : undefined
    return await this.#settleUpdate(id, writeId, cause, ctx)
  }

  async remove (id: string, ctx?: StoreContext): Promise<boolean> {
    return (await this.#collection.setState(id, 'TRASH', ctx)) === 'changed'
  }

  /** Live (PUBLIC/DRAFT) documents with rooms to delete, or whose deletion began and did not finish. */
  async listWithPendingRoomDeletions (limit: number): Promise<TeleconsultationRecord[]> {
    const filter = { $or: [{ 'pendingRoomDeletions.0': { $exists: true } }, { teleconsultationState: 'DELETING' }] }
    const docs = await this.#collection.list({ filter, limit })
    return docs.map(recordFromDocument)
  }

  /**
   * Trashed documents written by this service (they have a version) that still name a room and
   * were not trashed by the DELETE order (which deletes every room of a DELETING record first):
   * a safety net for what that order did not foresee. Released once swept.
   */
  async listTrashedWithRooms (limit: number): Promise<TeleconsultationRecord[]> {
    const filter = {
      [VERSION_FIELD]: { $exists: true },
      teleconsultationState: { $ne: 'DELETING' },
      $or: [{ bandyerRoomId: { $exists: true } }, { 'pendingRoomDeletions.0': { $exists: true } }]
    }
    const docs = await this.#collection.list({ filter, limit, states: ['TRASH'] })
    return docs.map(recordFromDocument)
  }

  async releaseTrashed (id: string, version: number): Promise<void> {
    const update = {
      $set: { pendingRoomDeletions: [], [WRITE_ID_FIELD]: randomUUID() },
      $unset: { bandyerRoomId: true }
    }
    await this.#collection.patchById(id, update, versionFilter(version), undefined, true, ['TRASH'])
  }

  async findByRoomId (roomId: string): Promise<TeleconsultationRecord | null> {
    const [doc] = await this.#collection.list({ filter: { bandyerRoomId: roomId }, limit: 1 })
    return doc === undefined ? null : recordFromDocument(doc)
  }

  async listRoomsToClose (endedBefore: string, limit: number): Promise<TeleconsultationRecord[]> {
    const docs = await this.#collection.list({
      filter: { bandyerRoomId: { $exists: true }, roomClosedAt: { $exists: false }, endDate: { $lt: endedBefore } },
      limit
    })
    return docs.map(recordFromDocument)
  }

  async ping (): Promise<void> {
    await this.#collection.ping()
  }

  async close (): Promise<void> {
    this.#closed = true
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    await this.#onClose?.()
  }

  async #findByWriteId (writeId: string, ctx?: StoreContext): Promise<CrudDocument | null> {
    const [doc] = await this.#collection.list({ filter: { [WRITE_ID_FIELD]: writeId }, limit: 1 }, ctx)
    return doc ?? null
  }

  /**
   * The caller was told the insert failed: a document that shows up later must not stay live.
   * Logged as part of the request that tried the insert; the clean-up itself acts for no one.
   */
  #watchLostInsert (writeId: string, ctx: StoreContext | undefined, attempt = 0): void {
    const delay = this.#lostInsertChecks[attempt]
    if (delay === undefined || this.#closed) return
    const log = ctx?.log ?? this.#log
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      this.#findByWriteId(writeId, ctx)
        .then(async doc => {
          if (doc === null) return this.#watchLostInsert(writeId, ctx, attempt + 1)
          await this.#collection.setState(doc._id, 'TRASH')
          log?.warn(
            { teleconsultationId: doc._id },
            'a teleconsultation whose creation was reported as failed was written late: moved to TRASH'
          )
        })
        .catch(err => {
          log?.warn({ err }, 'could not check for a teleconsultation whose creation answer was lost')
          this.#watchLostInsert(writeId, ctx, attempt + 1)
        })
    }, delay)
    timer.unref()
    this.#timers.add(timer)
  }

  /**
   * After a 404 or a lost answer: whose write is in the document now? `cause` is set when an
   * attempt of ours may have been applied without us knowing (lost answer, or retried).
   */
  async #settleUpdate (
    id: string,
    writeId: string,
    cause: UpstreamError | undefined,
    ctx?: StoreContext
  ): Promise<TeleconsultationRecord> {
    let doc: CrudDocument | null
    try {
      doc = await this.#collection.getById(id, ctx)
    } catch (err) {
      throw cause ?? err
    }
    if (doc === null) throw new StoreNotFoundError(id)
    if (writeIdOf(doc) === writeId) return recordFromDocument(doc)
    // Someone else wrote. If we never got an answer, ours may have landed before theirs (or may
    // still land, if the version did not move): the caller must treat the outcome as unknown.
    if (cause !== undefined) throw cause
    throw new StoreConflictError(id)
  }
}

export function createCrudTeleconsultationStore (opts: CrudTeleconsultationStoreOptions): TeleconsultationStore {
  return new CrudTeleconsultationStore(opts)
}
