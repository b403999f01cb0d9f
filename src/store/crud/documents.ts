// The stored shape of the records, and how documents written by the original service are read.
import type { ReadySession, StoredParticipant, TeleconsultationData, TeleconsultationRecord, TeleconsultationState, UserMapRecord } from '../types.js'
import type { CrudDocument, CrudFilter } from './client.js'

/** Field incremented by every update; conditional updates filter on it. Absent in legacy documents. */
export const VERSION_FIELD = 'version'
/** Unique id of the last write, so a write whose answer was lost can be recognised. */
export const WRITE_ID_FIELD = 'lastWriteId'

const STATES: readonly TeleconsultationState[] = ['WAITING_FOR_PARTICIPANTS', 'ROOM_CREATED', 'DELETING']

type Json = Record<string, unknown>

function str (value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function nonEmpty (value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null
}

function strings (value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined
}

/** A stored date (ISO string or epoch ms) as RFC 3339 UTC; undefined when it is not one. */
export function isoDate (value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined
  const time = new Date(value).getTime()
  return Number.isNaN(time) ? undefined : new Date(time).toISOString()
}

/** A participant as stored now (`userId`, `userBandyerId`) or by the original (`userExternalId`, `bandyerId`). */
function readParticipant (raw: unknown): StoredParticipant {
  const p = (typeof raw === 'object' && raw !== null ? raw : {}) as Json
  const participant: StoredParticipant = {
    userId: str(p.userId) ?? str(p.userExternalId) ?? '',
    userBandyerId: str(p.userBandyerId) ?? str(p.bandyerId) ?? '',
    accessLinkURL: nonEmpty(p.accessLinkURL)
  }
  const groups = strings(p.groups) ?? (typeof p.group === 'string' ? [p.group] : undefined)
  if (groups !== undefined && groups.length > 0) participant.groups = groups
  if (typeof p.fullName === 'string') participant.fullName = p.fullName
  if (typeof p.language === 'string') participant.language = p.language
  return participant
}

/** Participants are an array; the 1.2 design also described `{ number, data: [...] }`. */
function readParticipants (doc: Json): { list: StoredParticipant[], number: number | undefined } {
  const raw = doc.participants
  if (Array.isArray(raw)) return { list: raw.map(readParticipant), number: undefined }
  if (typeof raw === 'object' && raw !== null && Array.isArray((raw as Json).data)) {
    const object = raw as { data: unknown[], number?: unknown }
    return { list: object.data.map(readParticipant), number: typeof object.number === 'number' ? object.number : undefined }
  }
  return { list: [], number: undefined }
}

/**
 * Reads a teleconsultation document, filling what older documents lack: no version reads as 0,
 * no pending deletions as none, no expected number as the participants known, an unknown
 * teleconsultationState as what the room id says.
 */
export function recordFromDocument (doc: CrudDocument): TeleconsultationRecord {
  const { list, number } = readParticipants(doc)
  const bandyerRoomId = nonEmpty(doc.bandyerRoomId)
  const stored = str(doc.teleconsultationState) as TeleconsultationState | undefined
  const startDate = isoDate(doc.startDate) ?? isoDate(doc.createdAt) ?? new Date(0).toISOString()
  const version = doc[VERSION_FIELD]
  return {
    id: doc._id,
    version: typeof version === 'number' && Number.isInteger(version) ? version : 0,
    bandyerRoomId,
    participantsNumber: typeof doc.participantsNumber === 'number' ? doc.participantsNumber : number ?? list.length,
    participants: list,
    teleconsultationState: stored !== undefined && STATES.includes(stored) ? stored : bandyerRoomId === null ? 'WAITING_FOR_PARTICIPANTS' : 'ROOM_CREATED',
    startDate,
    endDate: isoDate(doc.endDate) ?? startDate,
    pendingRoomDeletions: strings(doc.pendingRoomDeletions) ?? [],
    ...beyondFields(doc)
  }
}

/** Fields written only when ROOM_CLOSE_AFTER_END_MS or KALEYRA_WEBHOOKS are on; absent otherwise. */
function beyondFields (doc: Json): Pick<TeleconsultationData, 'roomClosedAt' | 'readySessions'> {
  const fields: Pick<TeleconsultationData, 'roomClosedAt' | 'readySessions'> = {}
  const closedAt = isoDate(doc.roomClosedAt)
  if (closedAt !== undefined) fields.roomClosedAt = closedAt
  if (Array.isArray(doc.readySessions)) {
    fields.readySessions = doc.readySessions.flatMap((raw): ReadySession[] => {
      const s = (typeof raw === 'object' && raw !== null ? raw : {}) as Json
      if (typeof s.sessionId !== 'string') return []
      return [
        {
          sessionId: s.sessionId,
          ...(s.recording === true ? { recording: true } : {}),
          ...(s.transcription === true ? { transcription: true } : {})
        }
      ]
    })
  }
  return fields
}

/**
 * A participant as written: `userId` and `userBandyerId`; fields without a value are left out
 * rather than null, so collections whose schema has them as plain strings accept the document.
 */
function participantDocument (p: StoredParticipant): Json {
  const doc: Json = { userId: p.userId, userBandyerId: p.userBandyerId }
  if (p.accessLinkURL !== null) doc.accessLinkURL = p.accessLinkURL
  if (p.groups !== undefined) doc.groups = p.groups
  if (p.fullName !== undefined) doc.fullName = p.fullName
  if (p.language !== undefined) doc.language = p.language
  return doc
}

/** `$set`/`$unset` for the given fields; a null room id is unset (the original omitted it too). */
export function fieldUpdates (data: Partial<TeleconsultationData>): { set: Json, unset: string[] } {
  const set: Json = {}
  const unset: string[] = []
  for (const [key, value] of Object.entries(data) as Array<[keyof TeleconsultationData, unknown]>) {
    if (value === undefined) continue
    if (key === 'participants') set.participants = (value as StoredParticipant[]).map(participantDocument)
    else if ((key === 'bandyerRoomId' || key === 'roomClosedAt') && value === null) unset.push(key)
    else set[key] = value
  }
  return { set, unset }
}

export function insertDocument (data: TeleconsultationData, writeId: string): Json {
  const { set } = fieldUpdates(data)
  return { ...set, [VERSION_FIELD]: 1, [WRITE_ID_FIELD]: writeId }
}

/** Matches the version read; a legacy document without the field has version 0. */
export function versionFilter (version: number): CrudFilter {
  if (version === 0) return { $or: [{ [VERSION_FIELD]: 0 }, { [VERSION_FIELD]: { $exists: false } }] }
  return { [VERSION_FIELD]: version }
}

export function writeIdOf (doc: CrudDocument): string | undefined {
  return str(doc[WRITE_ID_FIELD])
}

/** The original collection's fields only: the map needs no schema change. */
export function userMapDocument (record: UserMapRecord): Json {
  const doc: Json = { receivedUserId: record.receivedUserId, bandyerId: record.bandyerId }
  if (record.fullName !== undefined) doc.fullName = record.fullName
  if (record.groups !== undefined && record.groups.length > 0) doc.groups = record.groups
  return doc
}

export function userMapFromDocument (doc: CrudDocument): UserMapRecord | null {
  const receivedUserId = str(doc.receivedUserId)
  const bandyerId = nonEmpty(doc.bandyerId)
  if (receivedUserId === undefined || bandyerId === null) return null
  const record: UserMapRecord = { receivedUserId, bandyerId }
  if (typeof doc.fullName === 'string') record.fullName = doc.fullName
  const groups = strings(doc.groups) ?? (typeof doc.group === 'string' ? [doc.group] : undefined)
  if (groups !== undefined) record.groups = groups
  return record
}
