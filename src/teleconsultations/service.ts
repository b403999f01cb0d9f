import type { AppConfig } from '../config/index.js'
import type { EventPublisher } from '../events/types.js'
import type { KaleyraClient } from '../kaleyra/client.js'
import type { IdentityProvider } from '../identity/types.js'
import type { KaleyraUsers } from '../users/kaleyra-users.js'
import { ConcurrentUpdate, Frozen, TooManyParticipants } from '../lib/errors.js'
import { StoreConflictError, StoreNotFoundError } from '../store/errors.js'
import { isUpstreamError } from '../upstream/errors.js'
import type { RequestContext } from '../upstream/request-context.js'
import type {
  StoredParticipant, TeleconsultationData, TeleconsultationRecord, TeleconsultationStore
} from '../store/types.js'
import { notFound } from './access.js'
import type { TeleconsultationEvents } from './events.js'
import { createKeyedMutex } from '../lib/mutex.js'
import {
  createParticipantOps, participantsKey, roomSetupKey, storedToInput, toStored, type PreparedParticipant
} from './participants.js'
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
  now?: () => number
  events?: TeleconsultationEvents
  /**
   * EVENTS_WEBHOOK_URL: teleconsultation.created and .updated (.deleted comes from the reaper, which completes
   * deletions).
   */
  publisher?: EventPublisher
}

const CONFLICT_RETRIES = 3

function roomState (room: string | null): TeleconsultationData['teleconsultationState'] {
  return room === null ? 'WAITING_FOR_PARTICIPANTS' : 'ROOM_CREATED'
}

/** The teleconsultation lifecycle; the order and compensation of each change are in docs/design.md. */
export class TeleconsultationService {
  /** A teleconsultation as a caller sees it (view.ts). */
  readonly view: ReturnType<typeof createTeleconsultationView>
  readonly deleteUploads: ReturnType<typeof createUploadsCleanup>
  readonly #deps: TeleconsultationServiceDeps
  readonly #env: AppConfig['env']
  readonly #now: () => number
  readonly #withLock = createKeyedMutex()
  readonly #participants: ReturnType<typeof createParticipantOps>
  readonly #rooms: ReturnType<typeof createRoomOps>

  constructor (deps: TeleconsultationServiceDeps) {
    this.#deps = deps
    this.#env = deps.config.env
    this.#now = deps.now ?? Date.now
    this.#participants = createParticipantOps(deps)
    this.#rooms = createRoomOps(deps)
    this.view = createTeleconsultationView({ ...deps, now: this.#now })
    this.deleteUploads = createUploadsCleanup(deps)
  }

  async create (input: CreateTeleconsultationInput, ctx: RequestContext): Promise<string> {
    const { store, identity, events, publisher } = this.#deps
    const schedule = resolveSchedule(input, null, this.#env.UNLIMITED_TELECONSULTATION)
    const normalized = normalizeParticipants(input.participants, identity.acceptsIdList)
    const prepared = await this.#participants.prepare(normalized.data, ctx)
    const complete = prepared.length === normalized.number
    const { room, stored } = await this.#materialize(prepared, complete, schedule, ctx)
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
      const record = await store.insert(data, ctx)
      events?.created()
      publisher?.publish('teleconsultation.created', record.id)
      return record.id
    } catch (err) {
      if (room !== null) await this.#rooms.discard(room.roomId, ctx)
      throw err
    }
  }

  async update (id: string, input: UpdateTeleconsultationInput, ctx: RequestContext): Promise<void> {
    const { store, identity, publisher } = this.#deps
    await this.#serialized(id, ctx, async () => {
      const record = await this.#getOrThrow(id, ctx)
      this.#assertNotFrozen(record)
      const current = { startDate: record.startDate, endDate: record.endDate }
      const schedule = resolveSchedule(input, current, this.#env.UNLIMITED_TELECONSULTATION)
      const next = input.participants !== undefined
        ? normalizeParticipants(input.participants, identity.acceptsIdList)
        : { number: record.participantsNumber, data: record.participants.map(storedToInput) }
      const prepared = await this.#participants.prepare(next.data, ctx)

      const storedInputs = record.participants.map(storedToInput)
      const scheduleChanged = schedule.startDate !== record.startDate || schedule.endDate !== record.endDate
      const countChanged = next.number !== record.participantsNumber
      const roomChanged = scheduleChanged || countChanged || roomSetupKey(prepared) !== roomSetupKey(storedInputs)
      const complete = prepared.length === next.number
      // A room Kaleyra deleted (KALEYRA_WEBHOOKS) leaves a complete teleconsultation without one: any PATCH
      // makes a new one.
      const roomLost = record.bandyerRoomId === null && complete
      if (!roomChanged && !roomLost && participantsKey(prepared) === participantsKey(storedInputs)) return

      if (!roomChanged && record.bandyerRoomId !== null) {
        // Only names or languages changed: keep the room and its links.
        const links = new Map(record.participants.map(p => [p.userId, p.accessLinkURL]))
        const resolved = await this.#participants.ensureUsers(prepared, ctx)
        const stored = toStored(resolved, null).map(p => ({ ...p, accessLinkURL: links.get(p.userId) ?? null }))
        await store.update(id, record.version, { participants: stored }, ctx)
        publisher?.publish('teleconsultation.updated', id)
        return
      }
      const { room, stored } = await this.#materialize(prepared, complete, schedule, ctx)
      await this.#persistSwap(record, {
        bandyerRoomId: room?.roomId ?? null,
        participantsNumber: next.number,
        participants: stored,
        teleconsultationState: roomState(room?.roomId ?? null),
        startDate: schedule.startDate,
        endDate: schedule.endDate
      }, room, ctx)
      publisher?.publish('teleconsultation.updated', id)
    })
  }

  /** Legacy 1.x route: adds one participant; completing the list creates the room. */
  async addParticipant (id: string, raw: RawParticipant, ctx: RequestContext): Promise<void> {
    await this.#serialized(id, ctx, async () => {
      const record = await this.#getOrThrow(id, ctx)
      this.#assertNotFrozen(record)
      const added = normalizeParticipant(raw, record.participants.length)
      if (record.participants.length >= record.participantsNumber) {
        throw new TooManyParticipants(
          `the teleconsultation already has all its ${record.participantsNumber} participants`
        )
      }
      const all = [...record.participants.map(storedToInput), added]
      assertUniqueIds(all)
      const complete = all.length === record.participantsNumber
      const prepared = await this.#participants.prepare(complete ? all : [added], ctx)
      const schedule = { startDate: record.startDate, endDate: record.endDate }
      const { room, stored } = await this.#materialize(prepared, complete, schedule, ctx)
      const participantsAfter: StoredParticipant[] = complete ? stored : [...record.participants, ...stored]
      await this.#persistSwap(record, {
        bandyerRoomId: room?.roomId ?? record.bandyerRoomId,
        participantsNumber: record.participantsNumber,
        participants: participantsAfter,
        teleconsultationState: roomState(room?.roomId ?? record.bandyerRoomId),
        startDate: record.startDate,
        endDate: record.endDate
      }, room, ctx)
      this.#deps.publisher?.publish('teleconsultation.updated', id)
    })
  }

  /**
   * Marks the record DELETING (conditional on the version read, its room added to
   * pendingRoomDeletions; bandyerRoomId stays, as the trashed record of 2.1 kept it), deletes the
   * rooms, then trashes it. A record being deleted reads as missing; a failure after the mark is
   * completed by a retry or by the reaper's sweep.
   */
  async remove (id: string, ctx: RequestContext): Promise<void> {
    const { store, reaper } = this.#deps
    await this.#serialized(id, ctx, async () => {
      const record = await store.get(id, ctx)
      if (record === null) throw notFound(id)
      let marked = record
      if (record.teleconsultationState !== 'DELETING') {
        const rooms =
          record.bandyerRoomId === null
            ? record.pendingRoomDeletions
            : [...record.pendingRoomDeletions, record.bandyerRoomId]
        marked = await store.update(
          id,
          record.version,
          { teleconsultationState: 'DELETING', pendingRoomDeletions: rooms },
          ctx
        )
      }
      await reaper.completeDeletion(marked, ctx)
    })
  }

  async #getOrThrow (id: string, ctx: RequestContext): Promise<TeleconsultationRecord> {
    const record = await this.#deps.store.get(id, ctx)
    if (record === null || record.teleconsultationState === 'DELETING') throw notFound(id)
    return record
  }

  #assertNotFrozen (record: TeleconsultationRecord): void {
    if (isFrozen(record, this.#now(), this.#env.IMMUTABLE_PERIOD_MS)) throw new Frozen()
  }

  /** Creates users (and the room when everyone is known); returns what to store. */
  async #materialize (
    prepared: PreparedParticipant[],
    complete: boolean,
    schedule: Schedule,
    ctx: RequestContext
  ): Promise<{ room: OpenedRoom | null, stored: StoredParticipant[] }> {
    if (complete) assertPlusUser(prepared)
    const resolved = await this.#participants.ensureUsers(prepared, ctx)
    const room: OpenedRoom | null = complete ? await this.#rooms.open(resolved, schedule, ctx) : null
    return { room, stored: toStored(resolved, room) }
  }

  /** Persists a change that may swap rooms: conditional write, then compensation or the old room's deletion. */
  async #persistSwap (
    record: TeleconsultationRecord,
    changes: Omit<TeleconsultationData, 'pendingRoomDeletions'>,
    newRoom: OpenedRoom | null,
    ctx: RequestContext
  ): Promise<void> {
    const { store, reaper, events } = this.#deps
    const oldRoom =
      record.bandyerRoomId !== null && record.bandyerRoomId !== changes.bandyerRoomId ? record.bandyerRoomId : null
    const pendingRoomDeletions =
      oldRoom !== null ? [...record.pendingRoomDeletions, oldRoom] : record.pendingRoomDeletions
    try {
      // A new room reopens a teleconsultation closed after its end (ROOM_CLOSE_AFTER_END_MS).
      const reopened = newRoom !== null && record.roomClosedAt != null ? { roomClosedAt: null } : {}
      await store.update(record.id, record.version, { ...changes, pendingRoomDeletions, ...reopened }, ctx)
    } catch (err) {
      if (newRoom !== null) {
        if (isUpstreamError(err) && err.ambiguous) {
          reaper.settleUnknownSwap(record.id, record.version, newRoom.roomId, ctx)
        } else {
          await this.#rooms.discard(newRoom.roomId, ctx)
        }
      }
      throw err
    }
    if (oldRoom !== null && newRoom !== null) {
      events?.roomReplaced()
      ctx.log.info(
        { teleconsultationId: record.id, roomId: newRoom.roomId, replacedRoomId: oldRoom },
        'Kaleyra room replaced'
      )
    }
    if (oldRoom !== null) await reaper.deleteRoom(oldRoom, record.id, ctx)
  }

  /** Runs a change under the per-id lock, retrying when another replica updated the record meanwhile. */
  async #serialized (id: string, ctx: RequestContext, change: () => Promise<void>): Promise<void> {
    await this.#withLock(id, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await change()
        } catch (err) {
          // Deleted by another replica between our read and our write.
          if (err instanceof StoreNotFoundError) throw notFound(id)
          if (!(err instanceof StoreConflictError)) throw err
          if (attempt >= CONFLICT_RETRIES) throw new ConcurrentUpdate()
          ctx.log.info({ teleconsultationId: id, attempt }, 'concurrent update detected, retrying')
        }
      }
    })
  }
}

export function createTeleconsultationService (deps: TeleconsultationServiceDeps): TeleconsultationService {
  return new TeleconsultationService(deps)
}
