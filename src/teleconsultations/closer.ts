import type { FastifyBaseLogger } from 'fastify'
import type { EventPublisher, IntegrationObserver } from '../events/types.js'
import { StoreConflictError, StoreNotFoundError } from '../store/errors.js'
import type { TeleconsultationStore } from '../store/types.js'
import type { RoomReaper } from './reaper.js'

export interface RoomCloserOptions {
  /** How often ended teleconsultations are looked for (default 60 s; 0: only when tick() is called). */
  intervalMs?: number
  /** Rooms closed at most per tick (default 20). */
  batch?: number
}

export type RoomCloser = ReturnType<typeof createRoomCloser>

/**
 * ROOM_CLOSE_AFTER_END_MS: Kaleyra's `duration` is talk time, so a room outlives its slot unless
 * deleted. Order: a write conditional on the version marks the record closed and lists the room
 * in pendingRoomDeletions (only one replica wins it), then the reaper deletes the room; if the
 * process dies in between, the reaper's sweep deletes it (state in the store).
 */
export function createRoomCloser (deps: {
  store: TeleconsultationStore
  reaper: RoomReaper
  log: FastifyBaseLogger
  closeAfterMs: number
  publisher: EventPublisher
  observer?: IntegrationObserver
  now?: () => number
}, opts: RoomCloserOptions = {}) {
  const now = deps.now ?? Date.now
  const batch = opts.batch ?? 20
  let closed = false
  let running: Promise<number> | undefined

  async function closeEnded (): Promise<number> {
    const at = now()
    const records = await deps.store.listRoomsToClose(new Date(at - deps.closeAfterMs).toISOString(), batch)
    let count = 0
    for (const record of records) {
      const roomId = record.bandyerRoomId
      if (roomId === null || closed) continue
      try {
        await deps.store.update(record.id, record.version, {
          roomClosedAt: new Date(at).toISOString(),
          pendingRoomDeletions: [...record.pendingRoomDeletions.filter(id => id !== roomId), roomId]
        })
      } catch (err) {
        // Another replica closed it, or the record changed or went: the next tick sees the truth.
        if (err instanceof StoreConflictError || err instanceof StoreNotFoundError) continue
        throw err
      }
      count++
      deps.log.info({ teleconsultationId: record.id, roomId }, 'closing the Kaleyra room of an ended teleconsultation')
      await deps.reaper.deleteRoom(roomId, record.id)
      deps.observer?.roomClosed()
      deps.publisher.publish('teleconsultation.ended', record.id)
    }
    return count
  }

  /** One pass; concurrent calls share it. Resolves to the number of rooms closed. */
  async function tick (): Promise<number> {
    running ??= closeEnded().finally(() => { running = undefined })
    return await running
  }

  const interval = opts.intervalMs ?? 60_000
  const timer = interval > 0
    ? setInterval(() => { if (!closed) tick().catch(err => deps.log.warn({ err }, 'closing ended rooms failed')) }, interval)
    : undefined
  timer?.unref()

  return {
    tick,
    async close (): Promise<void> {
      closed = true
      if (timer !== undefined) clearInterval(timer)
      await running?.catch(() => {})
    }
  }
}
