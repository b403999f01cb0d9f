// Switches for the parts of Kaleyra's behaviour that are per company or not publicly confirmed,
// so tests (and `kaleyra:check`) can meet each variant the service must cope with.

export const TRANSCRIPTION_DELIVERIES = ['inline', 'link'] as const
export const ROOM_ORDERS = ['newest-first', 'oldest-first'] as const
export const FROM_FILTER_MODES = ['supported', 'ignored', 'refused'] as const

export interface EmulatorSettings {
  /** Company feature: without it, a room asking for `offline_transcription: true` is refused (400). */
  offlineTranscription: boolean
  /** `GET /v2/sessions/{id}/transcription` answers the document, or `{ url }` of it on the file origin. */
  transcriptionDelivery: typeof TRANSCRIPTION_DELIVERIES[number]
  /** The file origin sends files without content-length. */
  chunkedFiles: boolean
  /** Order of `GET /v2/rooms`. */
  roomOrder: typeof ROOM_ORDERS[number]
  /** What `GET /v2/rooms?from=<date>` does: filter by creation date, ignore it, or refuse it (400). */
  roomFromFilter: typeof FROM_FILTER_MODES[number]
  /** Name of the participant link field in room answers. */
  roomLinkField: string
  /** Leave the id out of `POST /v2/users` answers. */
  omitCreatedUserId: boolean
}

export const DEFAULT_SETTINGS: Readonly<EmulatorSettings> = Object.freeze({
  offlineTranscription: true,
  transcriptionDelivery: 'inline',
  chunkedFiles: false,
  roomOrder: 'newest-first',
  roomFromFilter: 'supported',
  roomLinkField: 'link',
  omitCreatedUserId: false
})

const PARTICIPANT_KEYS = ['user_id', 'is_admin', 'tools']

function oneOf<T extends string> (value: unknown, allowed: readonly T[], name: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw new TypeError(`${name} must be one of ${allowed.join(', ')}`)
  return value as T
}

function boolean (value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean`)
  return value
}

/** Checks settings given in code or as JSON; a TypeError names the bad field. */
export function checkSettings (value: unknown): Partial<EmulatorSettings> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('settings must be a JSON object')
  const input = value as Record<string, unknown>
  const checked: Partial<EmulatorSettings> = {}
  for (const [key, given] of Object.entries(input)) {
    switch (key) {
      case 'offlineTranscription': checked.offlineTranscription = boolean(given, key); break
      case 'chunkedFiles': checked.chunkedFiles = boolean(given, key); break
      case 'omitCreatedUserId': checked.omitCreatedUserId = boolean(given, key); break
      case 'transcriptionDelivery': checked.transcriptionDelivery = oneOf(given, TRANSCRIPTION_DELIVERIES, key); break
      case 'roomOrder': checked.roomOrder = oneOf(given, ROOM_ORDERS, key); break
      case 'roomFromFilter': checked.roomFromFilter = oneOf(given, FROM_FILTER_MODES, key); break
      case 'roomLinkField':
        if (typeof given !== 'string' || !/^[a-z_]{1,32}$/.test(given) || PARTICIPANT_KEYS.includes(given)) {
          throw new TypeError(`roomLinkField must be 1 to 32 characters among a-z and _, other than ${PARTICIPANT_KEYS.join(', ')}`)
        }
        checked.roomLinkField = given
        break
      default: throw new TypeError(`unknown setting ${key}`)
    }
  }
  return checked
}
