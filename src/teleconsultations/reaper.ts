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

export type RoomReaper = ReturnType<typeof createRoomReaper>

/**
 * Makes sure no Kaleyra room outlives its teleconsultation (docs/design.md). A task started by a
 * request logs through that request's logger, retries included; the periodic sweep through the app's.
 */
export function createRoomReaper (
  deps: {
    kaleyra: KaleyraClient
    store: TeleconsultationStore
    log: FastifyBaseLogger
    events?: TeleconsultationEvents
    publisher?: EventPublisher
  },
  opts: ReaperOptions = {}
) {
  const retryDelays = opts.retryDelaysMs ?? [1_000, 5_000, 30_000, 120_000]
  const reconcileDelays = opts.reconcileDelaysMs ?? [2_000, 15_000, 60_000]
  const search = { maxPages: opts.reconcileMaxPages ?? 200, budgetMs: opts.reconcileBudgetMs ?? 60_000 }
  const lookbackMs = opts.reconcileLookbackMs ?? 10 * 60_000
  const closing = new AbortController()
  const timers = new Set<NodeJS.Timeout>()
  const running = new Set<Promise<unknown>>()
  let closed = false

  function later (ms: number, task: () => Promise<void>): void {
    if (closed) return
    const timer = setTimeout(() => {
      timers.delete(timer)
      track(task())
    }, ms)
    timer.unref()
    timers.add(timer)
  }

  function track (promise: Promise<void>): void {
    const p = promise.catch(err => deps.log.warn({ err }, 'room reaper task failed'))
    running.add(p)
    p.finally(() => running.delete(p)).catch(() => {})
  }

  /** Drops a deleted room from the record's pending list, as a change by `ctx` (the request that replaced it). */
  async function forget (teleconsultationId: string, roomId: string, ctx?: StoreContext): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const record = await deps.store.get(teleconsultationId, ctx)
      if (record === null || !record.pendingRoomDeletions.includes(roomId)) return
      try {
        await deps.store.update(teleconsultationId, record.version, {
          pendingRoomDeletions: record.pendingRoomDeletions.filter(id => id !== roomId)
        }, ctx)
        return
      } catch (err) {
        if (!(err instanceof StoreConflictError)) throw err
      }
    }
  }

  async function tryDelete (
    roomId: string,
    teleconsultationId: string | undefined,
    attempt: number,
    log: Log,
    ctx?: StoreContext
  ): Promise<void> {
    try {
      if (await deps.kaleyra.deleteRoom(roomId) === 'deleted') deps.events?.roomDeleted()
      log.info({ roomId, teleconsultationId }, 'stale Kaleyra room deleted')
      if (teleconsultationId !== undefined) await forget(teleconsultationId, roomId, ctx)
    } catch (err) {
      const next = retryDelays[attempt]
      log.warn(
        { err, roomId, teleconsultationId, nextAttemptInMs: next ?? null },
        'stale Kaleyra room could not be deleted yet'
      )
      if (next !== undefined) {
        later(next, async () => {
          await tryDelete(roomId, teleconsultationId, attempt + 1, log, ctx)
        })
      }
    }
  }

  async function reconcile (marker: string, createdAfter: Date, attempt: number, log: Log): Promise<void> {
    let found = false
    try {
      const { room, pages, exhausted } = await deps.kaleyra.findRoom(marker, {
        ...search,
        createdAfter,
        signal: closing.signal
      })
      if (room !== null) {
        found = true
        log.warn({ roomId: room.roomId }, 'deleting a Kaleyra room whose creation answer was lost')
        await tryDelete(room.roomId, undefined, 0, log)
      } else if (exhausted && !closed) {
        log.warn({ pages, ...search }, 'stopped looking for a room whose creation answer was lost: page or time budget exhausted')
      }
    } catch (err) {
      log.warn({ err }, 'could not look for a room whose creation answer was lost')
    }
    const next = reconcileDelays[attempt + 1]
    // A slow Kaleyra may still create the room after we gave up: look again a little later.
    if (!found && next !== undefined) {
      later(next - reconcileDelays[attempt], async () => {
        await reconcile(marker, createdAfter, attempt + 1, log)
      })
    }
  }

  /** Decides, from the record, which room of an unknown-outcome swap is in use; deletes the other. */
  async function settle (
    teleconsultationId: string,
    version: number,
    roomId: string,
    attempt: number,
    log: Log
  ): Promise<void> {
    try {
      for (let round = 0; round < 5; round++) {
        const record = await deps.store.get(teleconsultationId)
        if (record !== null && record.bandyerRoomId === roomId) {
          // The write landed: the room it replaced is listed as pending.
          for (const pending of record.pendingRoomDeletions) await tryDelete(pending, record.id, 0, log)
          return
        }
        if (record === null || record.version !== version) break
        try {
          // A no-op write on the version read: the lost write, conditional on it, can no longer land.
          await deps.store.update(teleconsultationId, version, {})
          break
        } catch (err) {
          if (!(err instanceof StoreConflictError)) throw err
        }
      }
    } catch (err) {
      const next = retryDelays[attempt]
      log.warn(
        { err, roomId, teleconsultationId, nextAttemptInMs: next ?? null },
        'could not tell yet whether a room is in use'
      )
      if (next !== undefined) {
        later(next, async () => {
          await settle(teleconsultationId, version, roomId, attempt + 1, log)
        })
      }
      return
    }
    await tryDelete(roomId, undefined, 0, log)
  }

  /** Deletes every room of `record`; throws on the first that fails (the caller retries as a whole). */
  async function deleteAll (roomIds: string[], teleconsultationId: string, log: Log): Promise<void> {
    for (const roomId of new Set(roomIds)) {
      if (await deps.kaleyra.deleteRoom(roomId) === 'deleted') {
        deps.events?.roomDeleted()
        log.info({ teleconsultationId, roomId }, 'Kaleyra room deleted')
      }
    }
  }

  /**
   * Second and third steps of a DELETE, once the record is marked DELETING with its rooms listed
   * as pending: delete the rooms, then trash the record. Run by the request and by the sweep, so
   * both are idempotent: a room already gone counts as deleted, a record already gone as trashed.
   * Whichever trashes it publishes `teleconsultation.deleted`.
   */
  async function completeDeletion (record: TeleconsultationRecord, ctx?: StoreContext): Promise<void> {
    const log = ctx?.log ?? deps.log
    await deleteAll(
      [...(record.bandyerRoomId === null ? [] : [record.bandyerRoomId]), ...record.pendingRoomDeletions],
      record.id,
      log
    )
    if (await deps.store.remove(record.id, ctx)) deps.publisher?.publish('teleconsultation.deleted', record.id)
  }

  /**
   * Bounded per tick: 50 live records with rooms to delete (or an unfinished deletion), 50 trashed ones still naming a
   * room.
   */
  async function sweep (): Promise<void> {
    const records = await deps.store.listWithPendingRoomDeletions(SWEEP_BATCH)
    await Promise.all(
      records.map(async record => {
        if (record.teleconsultationState === 'DELETING') {
          await completeDeletion(record).catch(err =>
            deps.log.warn({ err, teleconsultationId: record.id }, 'an unfinished deletion could not be completed yet')
          )
          return
        }
        await Promise.all(
          record.pendingRoomDeletions.map(async roomId => {
            await tryDelete(roomId, record.id, retryDelays.length, deps.log)
          })
        )
      })
    )
    const trashed = await deps.store.listTrashedWithRooms(SWEEP_BATCH)
    await Promise.all(
      trashed.map(async record => {
        try {
          await deleteAll(
            [...(record.bandyerRoomId === null ? [] : [record.bandyerRoomId]), ...record.pendingRoomDeletions],
            record.id,
            deps.log
          )
          await deps.store.releaseTrashed(record.id, record.version)
        } catch (err) {
          deps.log.warn(
            { err, teleconsultationId: record.id },
            'the rooms of a trashed teleconsultation could not be deleted yet'
          )
        }
      })
    )
  }

  let sweepTimer: NodeJS.Timeout | undefined
  if ((opts.sweepIntervalMs ?? 60_000) > 0) {
    sweepTimer = setInterval(() => { if (!closed) track(sweep()) }, opts.sweepIntervalMs ?? 60_000)
    sweepTimer.unref()
  }

  return {
    /**
     * Deletes a room now and, if that fails, keeps retrying in the background; never throws.
     * `teleconsultationId` names the record that lists the room in pendingRoomDeletions; `ctx`
     * is the request whose change replaced the room (the record's updaterId stays its caller's).
     */
    async deleteRoom (roomId: string, teleconsultationId?: string, ctx?: StoreContext): Promise<void> {
      const log = ctx?.log ?? deps.log
      await tryDelete(roomId, teleconsultationId, 0, log, ctx).catch(err => log.warn({ err, roomId }, 'room deletion bookkeeping failed'))
    },

    /** A createRoom call failed ambiguously: find the room by its marker (if it exists) and delete it. */
    reconcileLostCreation (marker: string, ctx?: Pick<RequestContext, 'log'>): void {
      const log = ctx?.log ?? deps.log
      const createdAfter = new Date(Date.now() - lookbackMs)
      later(reconcileDelays[0] ?? 0, async () => { await reconcile(marker, createdAfter, 0, log) })
    },

    /**
     * Persisting a record that points to `roomId` failed without a clear answer (the store may
     * have applied it): keep the room if the record uses it, delete it otherwise.
     */
    settleUnknownSwap (teleconsultationId: string, versionRead: number, roomId: string, ctx?: Pick<RequestContext, 'log'>): void {
      const log = ctx?.log ?? deps.log
      later(0, async () => { await settle(teleconsultationId, versionRead, roomId, 0, log) })
    },

    completeDeletion,

    sweep,

    /** Resolves when no reaper task is running (tests). */
    async idle (): Promise<void> {
      while (running.size > 0) await Promise.allSettled([...running])
    },

    async close (): Promise<void> {
      closed = true
      closing.abort()
      if (sweepTimer !== undefined) clearInterval(sweepTimer)
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      await Promise.allSettled([...running])
    }
  }
}
