import type { FastifyBaseLogger } from 'fastify'
import type { EventPublisher } from '../events/types.js'
import type { KaleyraClient } from '../kaleyra/client.js'
import { StoreConflictError } from '../store/errors.js'
import type { StoreContext, TeleconsultationRecord, TeleconsultationStore } from '../store/types.js'
import type { Log, RequestContext } from '../upstream/request-context.js'
import type { TeleconsultationEvents } from './events.js'

export interface ReaperOptions {
  /** Delays between attempts to delete a room that failed to delete (default 1 s, 5 s, 30 s, 2 min). */
  retryDelaysMs?: number[]
  /** When to look for a room whose creation answer was lost (default 2 s, 15 s, 60 s). */
  reconcileDelaysMs?: number[]
  /**
   * Budget of one look for such a room: pages of 100 rooms read at most (default 200) and time
   * spent at most (default 60 s). Kaleyra's list order is unknown, so a look reads to the end.
   */
  reconcileMaxPages?: number
  reconcileBudgetMs?: number
  /**
   * The look asks Kaleyra for rooms created since (failure time − this), when the listing takes a
   * creation-time filter: room creation and clock skew fit in it (default 10 min).
   */
  reconcileLookbackMs?: number
  /** How often persisted pending deletions are swept (default 60 s; 0 disables the timer). */
  sweepIntervalMs?: number
}

/** Records handled per sweep and per kind, so one tick stays short whatever the backlog. */
const SWEEP_BATCH = 50

export interface RoomReaperDeps {
  kaleyra: KaleyraClient
  store: TeleconsultationStore
  log: FastifyBaseLogger
  events?: TeleconsultationEvents
  publisher?: EventPublisher
}

/** The rooms a record names: the one in use, then those pending deletion. */
function roomsOf (record: TeleconsultationRecord): string[] {
  return [...(record.bandyerRoomId === null ? [] : [record.bandyerRoomId]), ...record.pendingRoomDeletions]
}

/**
 * Makes sure no Kaleyra room outlives its teleconsultation (docs/design.md). A task started by a
 * request logs through that request's logger, retries included; the periodic sweep through the app's.
 */
export class RoomReaper {
  readonly #deps: RoomReaperDeps
  readonly #retryDelays: number[]
  readonly #reconcileDelays: number[]
  readonly #search: { maxPages: number; budgetMs: number }
  readonly #lookbackMs: number
  readonly #closing = new AbortController()
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #running = new Set<Promise<unknown>>()
  readonly #sweepTimer: NodeJS.Timeout | undefined
  #closed = false

  constructor (deps: RoomReaperDeps, opts: ReaperOptions = {}) {
    this.#deps = deps
    this.#retryDelays = opts.retryDelaysMs ?? [1_000, 5_000, 30_000, 120_000]
    this.#reconcileDelays = opts.reconcileDelaysMs ?? [2_000, 15_000, 60_000]
    this.#search = { maxPages: opts.reconcileMaxPages ?? 200, budgetMs: opts.reconcileBudgetMs ?? 60_000 }
    this.#lookbackMs = opts.reconcileLookbackMs ?? 10 * 60_000
    const sweepIntervalMs = opts.sweepIntervalMs ?? 60_000
    if (sweepIntervalMs > 0) {
      this.#sweepTimer = setInterval(() => { if (!this.#closed) this.#track(this.sweep()) }, sweepIntervalMs)
      this.#sweepTimer.unref()
    }
  }

  /**
   * Deletes a room now and, if that fails, keeps retrying in the background; never throws.
   * `teleconsultationId` names the record that lists the room in pendingRoomDeletions; `ctx`
   * is the request whose change replaced the room (the record's updaterId stays its caller's).
   */
  async deleteRoom (roomId: string, teleconsultationId?: string, ctx?: StoreContext): Promise<void> {
    const log = ctx?.log ?? this.#deps.log
    await this.#tryDelete(roomId, teleconsultationId, 0, log, ctx)
      .catch(err => log.warn({ err, roomId }, 'room deletion bookkeeping failed'))
  }

  /** A createRoom call failed ambiguously: find the room by its marker (if it exists) and delete it. */
  reconcileLostCreation (marker: string, ctx?: Pick<RequestContext, 'log'>): void {
    const log = ctx?.log ?? this.#deps.log
    const createdAfter = new Date(Date.now() - this.#lookbackMs)
    this.#later(this.#reconcileDelays[0] ?? 0, async () => { await this.#reconcile(marker, createdAfter, 0, log) })
  }

  /**
   * Persisting a record that points to `roomId` failed without a clear answer (the store may
   * have applied it): keep the room if the record uses it, delete it otherwise.
   */
  settleUnknownSwap (
    teleconsultationId: string,
    versionRead: number,
    roomId: string,
    ctx?: Pick<RequestContext, 'log'>
  ): void {
    const log = ctx?.log ?? this.#deps.log
    this.#later(0, async () => { await this.#settle(teleconsultationId, versionRead, roomId, 0, log) })
  }

  /**
   * Second and third steps of a DELETE, once the record is marked DELETING with its rooms listed
   * as pending: delete the rooms, then trash the record. Run by the request and by the sweep, so
   * both are idempotent: a room already gone counts as deleted, a record already gone as trashed.
   * Whichever trashes it publishes `teleconsultation.deleted`.
   */
  async completeDeletion (record: TeleconsultationRecord, ctx?: StoreContext): Promise<void> {
    const log = ctx?.log ?? this.#deps.log
    await this.#deleteAll(roomsOf(record), record.id, log)
    if (await this.#deps.store.remove(record.id, ctx)) {
      this.#deps.publisher?.publish('teleconsultation.deleted', record.id)
    }
  }

  /**
   * Bounded per tick: 50 live records with rooms to delete (or an unfinished deletion), 50 trashed
   * ones still naming a room.
   */
  async sweep (): Promise<void> {
    const records = await this.#deps.store.listWithPendingRoomDeletions(SWEEP_BATCH)
    await Promise.all(records.map(async record => { await this.#sweepPending(record) }))
    const trashed = await this.#deps.store.listTrashedWithRooms(SWEEP_BATCH)
    await Promise.all(trashed.map(async record => { await this.#releaseTrashed(record) }))
  }

  /** Resolves when no reaper task is running (tests). */
  async idle (): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running])
  }

  async close (): Promise<void> {
    this.#closed = true
    this.#closing.abort()
    if (this.#sweepTimer !== undefined) clearInterval(this.#sweepTimer)
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    await Promise.allSettled([...this.#running])
  }

  #later (ms: number, task: () => Promise<void>): void {
    if (this.#closed) return
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      this.#track(task())
    }, ms)
    timer.unref()
    this.#timers.add(timer)
  }

  /** Logs a failed attempt with when the next one comes (null: none), and schedules it while retryDelaysMs last. */
  #retryLater (attempt: number, log: Log, fields: object, message: string, retry: () => Promise<void>): void {
    const next = this.#retryDelays[attempt]
    log.warn({ ...fields, nextAttemptInMs: next ?? null }, message)
    if (next !== undefined) this.#later(next, retry)
  }

  #track (promise: Promise<void>): void {
    const p = promise.catch(err => this.#deps.log.warn({ err }, 'room reaper task failed'))
    this.#running.add(p)
    p.finally(() => this.#running.delete(p)).catch(() => {})
  }

  /** Drops a deleted room from the record's pending list, as a change by `ctx` (the request that replaced it). */
  async #forget (teleconsultationId: string, roomId: string, ctx?: StoreContext): Promise<void> {
    const { store } = this.#deps
    for (let attempt = 0; attempt < 5; attempt++) {
      const record = await store.get(teleconsultationId, ctx)
      if (record === null || !record.pendingRoomDeletions.includes(roomId)) return
      try {
        await store.update(teleconsultationId, record.version, {
          pendingRoomDeletions: record.pendingRoomDeletions.filter(id => id !== roomId)
        }, ctx)
        return
      } catch (err) {
        if (!(err instanceof StoreConflictError)) throw err
      }
    }
  }

  async #tryDelete (
    roomId: string,
    teleconsultationId: string | undefined,
    attempt: number,
    log: Log,
    ctx?: StoreContext
  ): Promise<void> {
    try {
      if (await this.#deps.kaleyra.deleteRoom(roomId) === 'deleted') this.#deps.events?.roomDeleted()
      log.info({ roomId, teleconsultationId }, 'stale Kaleyra room deleted')
      if (teleconsultationId !== undefined) await this.#forget(teleconsultationId, roomId, ctx)
    } catch (err) {
      this.#retryLater(attempt, log, { err, roomId, teleconsultationId }, 'stale Kaleyra room could not be deleted yet',
        async () => { await this.#tryDelete(roomId, teleconsultationId, attempt + 1, log, ctx) })
    }
  }

  async #reconcile (marker: string, createdAfter: Date, attempt: number, log: Log): Promise<void> {
    let found = false
    try {
      const { room, pages, exhausted } = await this.#deps.kaleyra.findRoom(marker, {
        ...this.#search,
        createdAfter,
        signal: this.#closing.signal
      })
      if (room !== null) {
        found = true
        log.warn({ roomId: room.roomId }, 'deleting a Kaleyra room whose creation answer was lost')
        await this.#tryDelete(room.roomId, undefined, 0, log)
      } else if (exhausted && !this.#closed) {
        log.warn(
          { pages, ...this.#search },
          'stopped looking for a room whose creation answer was lost: page or time budget exhausted'
        )
      }
    } catch (err) {
      log.warn({ err }, 'could not look for a room whose creation answer was lost')
    }
    const next = this.#reconcileDelays[attempt + 1]
    // A slow Kaleyra may still create the room after we gave up: look again a little later.
    if (!found && next !== undefined) {
      this.#later(next - this.#reconcileDelays[attempt], async () => {
        await this.#reconcile(marker, createdAfter, attempt + 1, log)
      })
    }
  }

  /** Decides, from the record, which room of an unknown-outcome swap is in use; deletes the other. */
  async #settle (
    teleconsultationId: string,
    version: number,
    roomId: string,
    attempt: number,
    log: Log
  ): Promise<void> {
    const { store } = this.#deps
    try {
      for (let round = 0; round < 5; round++) {
        const record = await store.get(teleconsultationId)
        if (record !== null && record.bandyerRoomId === roomId) {
          // The write landed: the room it replaced is listed as pending.
          for (const pending of record.pendingRoomDeletions) await this.#tryDelete(pending, record.id, 0, log)
          return
        }
        if (record === null || record.version !== version) break
        try {
          // A no-op write on the version read: the lost write, conditional on it, can no longer land.
          await store.update(teleconsultationId, version, {})
          break
        } catch (err) {
          if (!(err instanceof StoreConflictError)) throw err
        }
      }
    } catch (err) {
      this.#retryLater(attempt, log, { err, roomId, teleconsultationId }, 'could not tell yet whether a room is in use',
        async () => { await this.#settle(teleconsultationId, version, roomId, attempt + 1, log) })
      return
    }
    await this.#tryDelete(roomId, undefined, 0, log)
  }

  /** Deletes every room of `record`; throws on the first that fails (the caller retries as a whole). */
  async #deleteAll (roomIds: string[], teleconsultationId: string, log: Log): Promise<void> {
    for (const roomId of new Set(roomIds)) {
      if (await this.#deps.kaleyra.deleteRoom(roomId) === 'deleted') {
        this.#deps.events?.roomDeleted()
        log.info({ teleconsultationId, roomId }, 'Kaleyra room deleted')
      }
    }
  }

  /** A live record found by the sweep: finish its unfinished deletion, or delete the rooms it lists as pending. */
  async #sweepPending (record: TeleconsultationRecord): Promise<void> {
    const { log } = this.#deps
    if (record.teleconsultationState === 'DELETING') {
      await this.completeDeletion(record).catch(err =>
        log.warn({ err, teleconsultationId: record.id }, 'an unfinished deletion could not be completed yet')
      )
      return
    }
    await Promise.all(
      record.pendingRoomDeletions.map(async roomId => {
        await this.#tryDelete(roomId, record.id, this.#retryDelays.length, log)
      })
    )
  }

  /** A trashed record found by the sweep: delete the rooms it still names, then let it go. */
  async #releaseTrashed (record: TeleconsultationRecord): Promise<void> {
    const { log, store } = this.#deps
    try {
      await this.#deleteAll(roomsOf(record), record.id, log)
      await store.releaseTrashed(record.id, record.version)
    } catch (err) {
      log.warn(
        { err, teleconsultationId: record.id },
        'the rooms of a trashed teleconsultation could not be deleted yet'
      )
    }
  }
}

export function createRoomReaper (deps: RoomReaperDeps, opts: ReaperOptions = {}): RoomReaper {
  return new RoomReaper(deps, opts)
}
