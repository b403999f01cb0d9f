// Kaleyra Video's vocabulary: roles, tools, recording types, the id pattern, the documented
// limits, and the shapes of what the client answers after parsing. Config, stores and the domain
// import this file; only kaleyra/ and the emulator know the wire format (wire.ts).

export const KALEYRA_ROLES = ['basic', 'plus'] as const
export type KaleyraRole = typeof KALEYRA_ROLES[number]

export const RECORDING_TYPES = ['none', 'manual', 'automatic'] as const
export type RecordingType = typeof RECORDING_TYPES[number]

export const TOOL_NAMES = [
  'chat', 'screen_sharing', 'file_upload', 'whiteboard',
  'snapshot', 'live_edit', 'live_pointer', 'present_to_everyone'
] as const
export type ToolName = typeof TOOL_NAMES[number]
export type Tools = Record<ToolName, boolean>

/** Kaleyra user ids: letters, digits, `.`, `_`, `-`; at most 128 characters. */
export const KALEYRA_ID_PATTERN = '^[a-zA-Z0-9._-]{1,128}$'
export const KALEYRA_ID_REGEX = new RegExp(KALEYRA_ID_PATTERN)

export const MIN_ROOM_PARTICIPANTS = 2
export const MAX_ROOM_PARTICIPANTS = 25
export const MIN_ROOM_DURATION_SECONDS = 60
export const MAX_ROOM_DURATION_SECONDS = 86_400
export const MIN_TOKEN_EXPIRY_SECONDS = 360
export const MAX_TOKEN_EXPIRY_SECONDS = 86_400
export const MAX_BACKGROUND_BYTES = 16 * 1024 * 1024

/** Validity of a recording download link, in seconds: "a number between 30 and 3600" (documented). */
export const MIN_RECORDING_LINK_SECONDS = 30
export const MAX_RECORDING_LINK_SECONDS = 3600

/** Query-string options understood by a participant link. */
export function decorateLink (link: string, options: { language?: string, virtualBackground?: boolean }): string {
  const url = new URL(link)
  if (options.language !== undefined) url.searchParams.set('language', options.language)
  if (options.virtualBackground === true) url.searchParams.set('virtual_background', 'image')
  return url.toString()
}

// What the client answers, parsed from Kaleyra's bodies (wire.ts).

export interface KaleyraRoomLink { userId: string, link: string }

export interface KaleyraRoom {
  roomId: string
  links: KaleyraRoomLink[]
  recording: string | null
  recordingStatus: string | null
  callType: string | null
  description: string | null
  status: string | null
  disabled: boolean | null
  creationDate: string | null
  durationInSeconds: number | null
  durationUsedInSeconds: number | null
  live: boolean | null
}

export interface KaleyraUser {
  userId: string
  /** null when the answer does not say (or names a role we do not know). */
  role: KaleyraRole | null
  /** false only when the answer says `active: false`; null when it does not say. */
  active: boolean | null
}

export interface Page<T> { items: T[], hasMore: boolean }

export interface KaleyraUpload {
  key: string
  roomId: string | null
  fileName: string | null
  creationDate: string | null
}

export interface KaleyraSession {
  sessionId: string
  roomId: string | null
  startDate: string | null
  endDate: string | null
}

/** A recording's temporary download link and when it stops working. */
export interface RecordingLink { url: string, expiresAt: Date }

export interface SdkCredentials { accessToken: string, expiresAt: string, userId: string }

export interface VirtualBackground { alias: string, url: string, creationDate: string }

export interface Company {
  name: string
  defaultLanguage: string | null
  /** v2 may answer with the alias only; then url and creationDate are null. */
  defaultBackground: { alias: string, url: string | null, creationDate: string | null } | null
  endCallRedirectUrl: string | null
  userDetailsProviderUrl: string | null
  endCallRedirectTimeoutMs: number | null
}
