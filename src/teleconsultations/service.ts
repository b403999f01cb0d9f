import type { FastifyBaseLogger } from 'fastify'
import type { AppConfig } from '../config/index.js'
import type { KaleyraClient } from '../kaleyra/client.js'
import type { CallerContext, IdentityProvider } from '../identity/types.js'
import type { KaleyraUsers } from '../identity/kaleyra-users.js'
import { BadRequestError, ConflictError } from '../platform/errors.js'
import { StoreConflictError, StoreNotFoundError } from '../store/errors.js'
import { isUpstreamError } from '../upstream/errors.js'
import type { StoredParticipant, TeleconsultationData, TeleconsultationRecord, TeleconsultationStore } from '../store/types.js'
import { notFound } from './access.js'
import type { TeleconsultationEvents } from './events.js'
import { createKeyedMutex } from './mutex.js'
import { createParticipantOps, participantsKey, roomSetupKey, storedToInput, toStored, type PreparedParticipant } from './participants.js'
import type { RoomReaper } from './reaper.js'
import { assertPlusUser, createRoomOps, type OpenedRoom } from './rooms.js'
import {
  assertUniqueIds, isFrozen, normalizeParticipant, normalizeParticipants, resolveSchedule,
  type RawParticipant, type RawParticipants, type Schedule, type ScheduleInput
} from './rules.js'
import { createUploadsCleanup } from './uploads.js'
import { createTeleconsultationView } from './view.js'

export interface CreateTeleconsultationInput extends ScheduleInput {
  participants: RawParticipants
  start_date: string
}

export interface UpdateTeleconsultationInput extends ScheduleInput {
  participants?: RawParticipants
}

export interface TeleconsultationServiceDeps {
  config: AppConfig
  kaleyra: KaleyraClient
  store: TeleconsultationStore
  users: KaleyraUsers
  identity: IdentityProvider
  reaper: RoomReaper
  log: FastifyBaseLogger
  now?: () => number
  events?: TeleconsultationEvents
}

const CONFLICT_RETRIES = 3

export type TeleconsultationService = ReturnType<typeof createTeleconsultationService>

/**
 * The teleconsultation lifecycle. Order of every multi-step change, so that no Kaleyra room is
 * orphaned and no record points to a deleted room:
 *   resolve participants → create the new room → persist (conditional on the version read)
 *   → delete the old room (persisted as pending first; the reaper retries it on failure).
 * If persisting fails, the new room is deleted (compensation); if the store cannot tell whether
 * it persisted, the reaper decides from the record later. Changes to one teleconsultation
 * are serialized in this process; across processes the version check makes the loser retry.
 */
export function createTeleconsultationService (deps: TeleconsultationServiceDeps) {
  const { config, store, reaper, log } = deps
  const env = config.env
  const now = deps.now ?? Date.now
  const withLock = createKeyedMutex()
  const participants = createParticipantOps(deps)
  const rooms = createRoomOps(deps)

  async function getOrThrow (id: string): Promise<TeleconsultationRecord> {
    const record = await store.get(id)
    if (record === null) throw notFound(id)
    return record
  }

  function assertNotFrozen (label: string, record: TeleconsultationRecord): void {
    if (isFrozen(record, now(), env.IMMUTABLE_PERIOD_MS)) {
      throw new ConflictError(`Failed ${label}: teleconsultation can no longer be modified`)
    }
  }

  /** Creates users (and the room when everyone is known); returns what to store. */
  async function materialize (plusLabel: string, prepared: PreparedParticipant[], complete: boolean, schedule: Schedule, ctx: CallerContext) {
    if (complete) assertPlusUser(plusLabel, prepared)
    const resolved = await participants.ensureUsers(prepared, ctx)
    const room: OpenedRoom | null = complete ? await rooms.open(resolved, schedule) : null
    return { room, stored: toStored(resolved, room) }
  }

  /** Persists a change that may swap rooms; compensates and cleans up as documented above. */
  async function persistSwap (record: TeleconsultationRecord, changes: Omit<TeleconsultationData, 'pendingRoomDeletions'>, newRoom: OpenedRoom | null, ctx: CallerContext): Promise<void> {
    const oldRoom = record.bandyerRoomId !== null && record.bandyerRoomId !== changes.bandyerRoomId ? record.bandyerRoomId : null
    const pendingRoomDeletions = oldRoom !== null ? [...record.pendingRoomDeletions, oldRoom] : record.pendingRoomDeletions
    try {
      await store.update(record.id, record.version, { ...changes, pendingRoomDeletions }, { callerId: ctx.callerId })
    } catch (err) {
      if (newRoom !== null) {
        if (isUpstreamError(err) && err.ambiguous) reaper.settleUnknownSwap(record.id, record.version, newRoom.roomId)
        else await rooms.discard(newRoom.roomId)
      }
      throw err
    }
    if (oldRoom !== null && newRoom !== null) deps.events?.roomReplaced()
    if (oldRoom !== null) await reaper.deleteRoom(oldRoom, record.id, { callerId: ctx.callerId })
  }

  /** Runs a change under the per-id lock, retrying when another replica updated the record meanwhile. */
  async function serialized (id: string, label: string, change: () => Promise<void>): Promise<void> {
    await withLock(id, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await change()
        } catch (err) {
          // Deleted by another replica between our read and our write.
          if (err instanceof StoreNotFoundError) throw notFound(id)
          if (!(err instanceof StoreConflictError)) throw err
          if (attempt >= CONFLICT_RETRIES) throw new ConflictError(`Failed ${label}: the teleconsultation was modified concurrently, retry`)
          log.info({ teleconsultationId: id, attempt }, 'concurrent update detected, retrying')
        }
      }
    })
  }

  function roomState (room: string | null): TeleconsultationData['teleconsultationState'] {
    return room === null ? 'WAITING_FOR_PARTICIPANTS' : 'ROOM_CREATED'
  }

  return {
    async create (input: CreateTeleconsultationInput, ctx: CallerContext): Promise<string> {
      const label = 'POST /teleconsultation'
      const schedule = resolveSchedule(label, input, null, env.UNLIMITED_TELECONSULTATION)
      const normalized = normalizeParticipants(label, input.participants, deps.identity.acceptsIdList)
      const prepared = await participants.prepare(label, normalized.data, ctx)
      const complete = prepared.length === normalized.number
      const { room, stored } = await materialize(label, prepared, complete, schedule, ctx)
      const data: TeleconsultationData = {
        bandyerRoomId: room?.roomId ?? null,
        participantsNumber: normalized.number,
        participants: stored,
        teleconsultationState: roomState(room?.roomId ?? null),
        startDate: schedule.startDate,
        endDate: schedule.endDate,
        pendingRoomDeletions: []
      }
      try {
        const record = await store.insert(data, { callerId: ctx.callerId })
        deps.events?.created()
        return record.id
      } catch (err) {
        if (room !== null) await rooms.discard(room.roomId)
        throw err
      }
    },

    async update (id: string, input: UpdateTeleconsultationInput, ctx: CallerContext): Promise<void> {
      const label = `PATCH /teleconsultation/${id}`
      await serialized(id, label, async () => {
        const record = await getOrThrow(id)
        assertNotFrozen(label, record)
        const current = { startDate: record.startDate, endDate: record.endDate }
        const schedule = resolveSchedule(label, input, current, env.UNLIMITED_TELECONSULTATION)
        const next = input.participants !== undefined
          ? normalizeParticipants(label, input.participants, deps.identity.acceptsIdList)
          : { number: record.participantsNumber, data: record.participants.map(storedToInput) }
        const prepared = await participants.prepare(label, next.data, ctx)

        const storedInputs = record.participants.map(storedToInput)
        const scheduleChanged = schedule.startDate !== record.startDate || schedule.endDate !== record.endDate
        const countChanged = next.number !== record.participantsNumber
        const roomChanged = scheduleChanged || countChanged || roomSetupKey(prepared) !== roomSetupKey(storedInputs)
        if (!roomChanged && participantsKey(prepared) === participantsKey(storedInputs)) return

        const complete = prepared.length === next.number
        if (!roomChanged && record.bandyerRoomId !== null) {
          // Only names or languages changed: keep the room and its links.
          const links = new Map(record.participants.map(p => [p.userId, p.accessLinkURL]))
          const resolved = await participants.ensureUsers(prepared, ctx)
          const stored = toStored(resolved, null).map(p => ({ ...p, accessLinkURL: links.get(p.userId) ?? null }))
          await store.update(id, record.version, { participants: stored }, { callerId: ctx.callerId })
          return
        }
        const { room, stored } = await materialize('PATCH /teleconsultation', prepared, complete, schedule, ctx)
        await persistSwap(record, {
          bandyerRoomId: room?.roomId ?? null,
          participantsNumber: next.number,
          participants: stored,
          teleconsultationState: roomState(room?.roomId ?? null),
          startDate: schedule.startDate,
          endDate: schedule.endDate
        }, room, ctx)
      })
    },

    /** Legacy 1.x route: adds one participant; completing the list creates the room. */
    async addParticipant (id: string, raw: RawParticipant, ctx: CallerContext): Promise<void> {
      const label = `POST /teleconsultation/${id}/participants/data`
      await serialized(id, label, async () => {
        const record = await getOrThrow(id)
        assertNotFrozen(label, record)
        const added = normalizeParticipant(label, raw, record.participants.length)
        if (record.participants.length >= record.participantsNumber) {
          throw new BadRequestError(`Failed ${label}: the teleconsultation already has all its ${record.participantsNumber} participants`)
        }
        const all = [...record.participants.map(storedToInput), added]
        assertUniqueIds(label, all)
        const complete = all.length === record.participantsNumber
        const prepared = await participants.prepare(label, complete ? all : [added], ctx)
        const schedule = { startDate: record.startDate, endDate: record.endDate }
        const { room, stored } = await materialize(label, prepared, complete, schedule, ctx)
        const participantsAfter: StoredParticipant[] = complete ? stored : [...record.participants, ...stored]
        await persistSwap(record, {
          bandyerRoomId: room?.roomId ?? record.bandyerRoomId,
          participantsNumber: record.participantsNumber,
          participants: participantsAfter,
          teleconsultationState: roomState(room?.roomId ?? record.bandyerRoomId),
          startDate: record.startDate,
          endDate: record.endDate
        }, room, ctx)
      })
    },

    /** Deletes the Kaleyra room first (retry-safe: a missing room counts as deleted), then the record. */
    async remove (id: string, ctx: CallerContext): Promise<void> {
      await withLock(id, async () => {
        const record = await getOrThrow(id)
        if (record.bandyerRoomId !== null && await deps.kaleyra.deleteRoom(record.bandyerRoomId) === 'deleted') deps.events?.roomDeleted()
        const removed = await store.remove(id, { callerId: ctx.callerId })
        if (!removed) throw notFound(id)
        await Promise.all(record.pendingRoomDeletions.map(async roomId => { await reaper.deleteRoom(roomId) }))
      })
    },

    view: createTeleconsultationView({ ...deps, now }),

    deleteUploads: createUploadsCleanup(deps)
  }
}
