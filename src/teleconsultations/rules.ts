import { BadParticipants, BadSchedule, TooManyParticipants } from '../lib/errors.js'
import { MAX_ROOM_DURATION_SECONDS, MAX_ROOM_PARTICIPANTS, MIN_ROOM_PARTICIPANTS } from '../kaleyra/model.js'
import type { ParticipantInput } from '../identity/types.js'

export const MIN_DURATION_SECONDS = 300

export interface ScheduleInput {
  start_date?: string
  end_date?: string
  duration_in_seconds?: number
}

export interface Schedule {
  startDate: string
  endDate: string
}

/** A participant as clients may send it: `userId`, or the 1.x key `userExternalId`; `group` tolerated for `groups`. */
export interface RawParticipant {
  userId?: string
  userExternalId?: string
  groups?: string[]
  group?: string
  fullName?: string
  language?: string
}

export type RawParticipants = string[] | { number: number, data: RawParticipant[] }

export interface NormalizedParticipants {
  number: number
  data: ParticipantInput[]
  /** The array form: ids only, identities to be fetched. */
  idList: boolean
}

function toIso (value: string): string {
  return new Date(value).toISOString()
}

/**
 * Dates a teleconsultation can have (docs/api.md): outside, a typo (a two-digit year, 0001, 9999) rather than an
 * appointment.
 */
export const EARLIEST_DATE = '2000-01-01T00:00:00.000Z'
export const LATEST_DATE = '2100-12-31T23:59:59.999Z'

function assertInRange (field: string, value: string): void {
  const time = Date.parse(value)
  if (!(time >= Date.parse(EARLIEST_DATE) && time <= Date.parse(LATEST_DATE))) {
    throw new BadSchedule(`${field} must be between 2000-01-01 and 2100-12-31`)
  }
}

/** The end: given, or start + duration, or (PATCH) the stored one. */
function endDateOf (input: ScheduleInput, start: string, current: Schedule | null): string | undefined {
  if (input.end_date !== undefined) return input.end_date
  if (input.duration_in_seconds === undefined) return current?.endDate
  const end = new Date(Date.parse(start) + input.duration_in_seconds * 1000)
  // Past year 275760 a Date cannot exist: refuse rather than fail on it.
  if (!Number.isFinite(end.getTime())) throw new BadSchedule('the dates are out of range')
  return end.toISOString()
}

/**
 * Combines the request's dates with the stored ones (PATCH) and checks the duration rules:
 * end_date xor duration_in_seconds, end after start, at least 5 minutes, at most 24 h when
 * rooms carry a duration.
 */
export function resolveSchedule (input: ScheduleInput, current: Schedule | null, unlimited: boolean): Schedule {
  if (input.end_date !== undefined && input.duration_in_seconds !== undefined) {
    throw new BadSchedule('only one of end_date and duration_in_seconds can be specified')
  }
  const start = input.start_date ?? current?.startDate
  if (start === undefined) throw new BadSchedule('start_date is required')
  const end = endDateOf(input, start, current)
  if (end === undefined) throw new BadSchedule('one of end_date and duration_in_seconds is required')
  // Only the dates this request gives: a stored record keeps whatever dates it has.
  if (input.start_date !== undefined) assertInRange('start_date', input.start_date)
  if (input.end_date !== undefined) assertInRange('end_date', input.end_date)
  else if (input.duration_in_seconds !== undefined) assertInRange('the end (start_date + duration_in_seconds)', end)

  const seconds = (Date.parse(end) - Date.parse(start)) / 1000
  if (!Number.isFinite(seconds)) throw new BadSchedule('the dates are out of range')
  if (!(seconds > 0)) throw new BadSchedule('end_date must be after start_date')
  if (seconds < MIN_DURATION_SECONDS) throw new BadSchedule('the teleconsultation must last at least 5 minutes')
  if (!unlimited && seconds > MAX_ROOM_DURATION_SECONDS) {
    throw new BadSchedule('the teleconsultation cannot last more than 24 hours')
  }
  return { startDate: toIso(start), endDate: toIso(end) }
}

export function durationSeconds (schedule: Schedule): number {
  return Math.round((Date.parse(schedule.endDate) - Date.parse(schedule.startDate)) / 1000)
}

export function normalizeParticipant (raw: RawParticipant, index: number): ParticipantInput {
  const { userId, userExternalId } = raw
  if (userId !== undefined && userExternalId !== undefined && userId !== userExternalId) {
    throw new BadParticipants(`participant ${index} has different userId and userExternalId`)
  }
  const id = userId ?? userExternalId
  if (id === undefined) throw new BadParticipants(`participant ${index} needs a userId`)
  const groups = raw.groups ?? (raw.group !== undefined ? [raw.group] : undefined)
  return { userId: id, groups, fullName: raw.fullName, language: raw.language }
}

export function assertUniqueIds (participants: Array<{ userId: string }>): void {
  const seen = new Set<string>()
  for (const p of participants) {
    if (seen.has(p.userId)) throw new BadParticipants(`participant ${p.userId} is listed more than once`)
    seen.add(p.userId)
  }
}

export function assertParticipantCount (number: number, known: number): void {
  if (number < MIN_ROOM_PARTICIPANTS) throw new BadParticipants(`a teleconsultation needs at least ${MIN_ROOM_PARTICIPANTS} participants`)
  if (number > MAX_ROOM_PARTICIPANTS) throw new TooManyParticipants(`a teleconsultation can have at most ${MAX_ROOM_PARTICIPANTS} participants`)
  if (known > number) throw new TooManyParticipants(`more participants than the expected number (${known} > ${number})`)
}

export function normalizeParticipants (raw: RawParticipants, acceptsIdList: boolean): NormalizedParticipants {
  let result: NormalizedParticipants
  if (Array.isArray(raw)) {
    if (!acceptsIdList) {
      throw new BadParticipants('participants as a list of ids need an identity provider (AUTH_SERVICE); send { number, data: [{ userId, groups, fullName }] }')
    }
    result = { number: raw.length, data: raw.map(userId => ({ userId })), idList: true }
  } else {
    result = { number: raw.number, data: raw.data.map((p, i) => normalizeParticipant(p, i)), idList: false }
  }
  assertParticipantCount(result.number, result.data.length)
  assertUniqueIds(result.data)
  return result
}

/** Frozen: the room exists and we are inside IMMUTABLE_PERIOD_MS of the start (or past it). */
export function isFrozen (
  record: { bandyerRoomId: string | null; startDate: string },
  now: number,
  immutablePeriodMs: number
): boolean {
  return record.bandyerRoomId !== null && now >= Date.parse(record.startDate) - immutablePeriodMs
}
