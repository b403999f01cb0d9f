// Validation of `POST /v2/rooms` bodies against Kaleyra's room rules.
import {
  KALEYRA_ID_REGEX, MAX_ROOM_DURATION_SECONDS, MAX_ROOM_PARTICIPANTS, MIN_ROOM_DURATION_SECONDS, MIN_ROOM_PARTICIPANTS,
  RECORDING_TYPES, TOOL_NAMES, type RecordingType, type ToolName, type Tools
} from '../../kaleyra/model.js'
import { ApiError, isObject, objectBody, oneOf, optionalBoolean, optionalString, validationError } from '../http.js'
import type { EmulatorState } from '../state.js'

export const CALL_TYPES = ['audio_only', 'audio_upgradable', 'audio_video'] as const

export interface RoomRequest {
  participants: Array<{ userId: string, isAdmin: boolean, tools: Tools }>
  duration: number | null
  recording: RecordingType
  offlineTranscription: boolean
  live: boolean
  callType: string
  description: string | null
}

const ROOM_FIELDS = ['participants', 'duration', 'recording', 'offline_transcription', 'live', 'call_type', 'description']
const PARTICIPANT_FIELDS = ['user_id', 'is_admin', 'tools']

/** Kaleyra: no tools field = every tool on; a tools object = only the tools set to true. */
function readTools (value: unknown, where: string): Tools {
  const tools = Object.fromEntries(TOOL_NAMES.map(name => [name, value === undefined])) as Tools
  if (value === undefined) return tools
  if (!isObject(value)) throw validationError(`${where} must be an object`)
  for (const [key, enabled] of Object.entries(value)) {
    if (!(TOOL_NAMES as readonly string[]).includes(key)) throw validationError(`${where}.${key} is not a known tool (${TOOL_NAMES.join(', ')})`)
    if (typeof enabled !== 'boolean') throw validationError(`${where}.${key} must be a boolean`)
    tools[key as ToolName] = enabled
  }
  return tools
}

function readParticipants (value: unknown): RoomRequest['participants'] {
  if (!Array.isArray(value)) throw validationError('body.participants must be an array')
  if (value.length < MIN_ROOM_PARTICIPANTS || value.length > MAX_ROOM_PARTICIPANTS) {
    throw validationError(`body.participants must contain between ${MIN_ROOM_PARTICIPANTS} and ${MAX_ROOM_PARTICIPANTS} participants`)
  }
  const seen = new Set<string>()
  return value.map((item: unknown, i) => {
    const where = `body.participants[${i}]`
    const p = objectBody(item, PARTICIPANT_FIELDS, where)
    if (typeof p.user_id !== 'string' || !KALEYRA_ID_REGEX.test(p.user_id)) {
      throw validationError(`${where}.user_id must be 1 to 128 characters among a-z A-Z 0-9 . _ -`)
    }
    if (seen.has(p.user_id)) throw validationError(`${where}.user_id ${p.user_id} appears more than once`)
    seen.add(p.user_id)
    return { userId: p.user_id, isAdmin: optionalBoolean(p, 'is_admin', where) ?? false, tools: readTools(p.tools, `${where}.tools`) }
  })
}

function readDuration (value: unknown): number | null {
  if (value === undefined) return null
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_ROOM_DURATION_SECONDS || value > MAX_ROOM_DURATION_SECONDS) {
    throw validationError(`body.duration must be an integer between ${MIN_ROOM_DURATION_SECONDS} and ${MAX_ROOM_DURATION_SECONDS} seconds`)
  }
  return value
}

export function readRoomRequest (body: unknown, state: EmulatorState): RoomRequest {
  const input = objectBody(body, ROOM_FIELDS)
  const participants = readParticipants(input.participants)
  const duration = readDuration(input.duration)
  const recording = input.recording === undefined ? 'none' : oneOf(input.recording, RECORDING_TYPES, 'body.recording')
  const offlineTranscription = optionalBoolean(input, 'offline_transcription') ?? false
  if (offlineTranscription && recording === 'none') throw validationError('body.offline_transcription needs recording manual or automatic')
  const live = optionalBoolean(input, 'live') ?? false
  const callType = input.call_type === undefined ? 'audio_video' : oneOf(input.call_type, CALL_TYPES, 'body.call_type')
  const description = optionalString(input, 'description') ?? null

  if (offlineTranscription && !state.settings.offlineTranscription) {
    throw new ApiError(400, 'transcription_not_enabled', 'Offline transcription is not currently enabled for your Company. Please contact support')
  }
  for (const p of participants) {
    const user = state.users.get(p.userId)
    if (user === undefined) throw new ApiError(422, 'user_not_found', `user ${p.userId} does not exist`)
    if (!user.active) throw new ApiError(422, 'user_inactive', `user ${p.userId} is not active`)
  }
  if (!participants.some(p => state.users.get(p.userId)?.role === 'plus')) {
    throw validationError('a room needs at least one participant whose user role is plus')
  }
  return { participants, duration, recording, offlineTranscription, live, callType, description }
}
