import type { KaleyraRole } from '../kaleyra/model.js'
import type { EventOutboxStore } from './outbox.js'
import type { RequestContext } from '../upstream/request-context.js'

export interface StoredParticipant {
  /** External user id (written as `userId`; legacy documents may say `userExternalId`). */
  userId: string
  /** Kaleyra user id (legacy documents may say `bandyerId`). */
  userBandyerId: string
  /** Personal link into the current room; null until the room exists. */
  accessLinkURL: string | null
  groups?: string[]
  fullName?: string
  language?: string
}

/** `DELETING`: a DELETE began; its rooms are in pendingRoomDeletions and it reads as missing (docs/design.md). */
export type TeleconsultationState = 'WAITING_FOR_PARTICIPANTS' | 'ROOM_CREATED' | 'DELETING'

/** A session of the room that Kaleyra said (by webhook) has a recording and/or a transcription ready. */
export interface ReadySession {
  sessionId: string
  recording?: boolean
  transcription?: boolean
}

/** The fields the service writes. Store metadata (id, version) lives in TeleconsultationRecord. */
export interface TeleconsultationData {
  bandyerRoomId: string | null
  participantsNumber: number
  participants: StoredParticipant[]
  teleconsultationState: TeleconsultationState
  startDate: string
  endDate: string
  /** Kaleyra rooms that replaced-out or compensated but could not be deleted yet (retried by the reaper). */
  pendingRoomDeletions: string[]
  /** ROOM_CLOSE_AFTER_END_MS: when the room was closed after the end date (absent: not closed; null clears it). */
  roomClosedAt?: string | null
  /** KALEYRA_WEBHOOKS: sessions of the current room with a recording or transcription ready (absent: none known). */
  readySessions?: ReadySession[]
}

export interface TeleconsultationRecord extends TeleconsultationData {
  id: string
  /** Incremented by every update; updates are conditional on it. Documents without one read as 0. */
  version: number
}

export interface UserMapRecord {
  receivedUserId: string
  bandyerId: string
  role?: KaleyraRole
  fullName?: string
  groups?: string[]
}

/**
 * The request a store call works for: the caller fills the CRUD Service's creatorId/updaterId,
 * its platform headers go with every CRUD call, and problems are logged with the request's id.
 * Absent for background work.
 */
export type StoreContext = Pick<RequestContext, 'callerId' | 'requestId' | 'log'> & Partial<Pick<RequestContext, 'platformHeaders'>>

export interface TeleconsultationStore {
  insert: (data: TeleconsultationData, ctx?: StoreContext) => Promise<TeleconsultationRecord>
  get: (id: string, ctx?: StoreContext) => Promise<TeleconsultationRecord | null>
  /** Applies `changes` only when the stored version equals `expectedVersion`; resolves to the new record. */
  update: (
    id: string,
    expectedVersion: number,
    changes: Partial<TeleconsultationData>,
    ctx?: StoreContext
  ) => Promise<TeleconsultationRecord>
  /** Removes (or trashes) the record; false when it did not exist. */
  remove: (id: string, ctx?: StoreContext) => Promise<boolean>
  /** Live records whose pendingRoomDeletions is not empty, or whose deletion began, for the reaper. */
  listWithPendingRoomDeletions: (limit: number) => Promise<TeleconsultationRecord[]>
  /** Trashed records that still name a room (current or pending), for the reaper; none in memory. */
  listTrashedWithRooms: (limit: number) => Promise<TeleconsultationRecord[]>
  /** Clears the room fields of a trashed record once its rooms are deleted (conditional on `version`). */
  releaseTrashed: (id: string, version: number) => Promise<void>
  /** The record whose current room is `roomId` (Kaleyra webhooks name rooms, not teleconsultations). */
  findByRoomId: (roomId: string) => Promise<TeleconsultationRecord | null>
  /**
   * Records with a room not closed yet whose endDate is before `endedBefore` (ISO date), for ROOM_CLOSE_AFTER_END_MS.
   */
  listRoomsToClose: (endedBefore: string, limit: number) => Promise<TeleconsultationRecord[]>
  ping: () => Promise<void>
  close: () => Promise<void>
}

export interface UserMapStore {
  find: (receivedUserId: string, ctx?: StoreContext) => Promise<UserMapRecord | null>
  /** Throws StoreDuplicateError when a row for receivedUserId already exists. */
  insert: (record: UserMapRecord, ctx?: StoreContext) => Promise<UserMapRecord>
  ping: () => Promise<void>
  close: () => Promise<void>
}

// ---- Idempotency keys (IDEMPOTENCY_KEYS: the Idempotency-Key header of creations) ----

export type IdempotencyState = 'PENDING' | 'DONE' | 'RELEASED'

/** One client key of one caller: who holds it, for which request, and the answer once there is one. */
export interface IdempotencyRecord {
  /** Hash of the caller and the client's key (neither is stored as such). */
  key: string
  /** Hash of the request the key was first used for (route, target, canonical body). */
  fingerprint: string
  /** Random id of this use of the key: completing, releasing and taking it over are conditional on it. */
  reservationId: string
  /** PENDING while the request runs, DONE with its answer, RELEASED when it failed (the key is free). */
  state: IdempotencyState
  /** ISO date from which the key is free again, whatever its state. */
  expiresAt: string
  /** DONE: the answer repeats get. */
  answer?: IdempotentAnswer
}

export interface IdempotentAnswer {
  statusCode: number
  /** The JSON body; absent for an empty one. */
  body?: Record<string, unknown>
}

/** A reservation as the store holds it: `id` names it in the store's later calls. */
export type HeldIdempotencyRecord = IdempotencyRecord & { id: string }

export interface IdempotencyStore {
  /** Inserts a PENDING record unless the key is taken (unique key across replicas); else answers who holds it. */
  reserve: (
    record: IdempotencyRecord,
    ctx?: StoreContext
  ) => Promise<{ reserved: true; id: string } | { reserved: false; holder: HeldIdempotencyRecord }>
  /**
   * Replaces a released or expired holder by `record`, conditional on the holder's reservationId; false when another
   * request did first.
   */
  takeOver: (holder: HeldIdempotencyRecord, record: IdempotencyRecord, ctx?: StoreContext) => Promise<boolean>
  /** PENDING → DONE with the answer (conditional on the reservationId). */
  complete: (id: string, reservationId: string, answer: IdempotentAnswer, ctx?: StoreContext) => Promise<void>
  /** PENDING → RELEASED (conditional on the reservationId): the request failed, the key may be used again. */
  release: (id: string, reservationId: string, ctx?: StoreContext) => Promise<void>
  ping: () => Promise<void>
  close: () => Promise<void>
}

export interface Stores {
  teleconsultations: TeleconsultationStore
  userMap: UserMapStore
  /** EVENTS_WEBHOOK_URL: the events waiting for delivery (the CRUD store has it only when the URL is set). */
  outbox?: EventOutboxStore
  /** Used only with IDEMPOTENCY_KEYS=true. */
  idempotency: IdempotencyStore
}
