// The one place that knows Kaleyra Video's v2 wire format.
// Several v2 field names are not publicly confirmed (see docs/kaleyra.md): every request shape
// we send and every response shape we accept lives here, and the emulator answers exactly these,
// so a correction is a change to this file only.
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { KaleyraFormatError } from './errors.js'

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

// ---------------------------------------------------------------------------------------------
// Request bodies (what we send)

export const ToolsSchema = Type.Object(
  Object.fromEntries(TOOL_NAMES.map(name => [name, Type.Boolean()])) as Record<ToolName, ReturnType<typeof Type.Boolean>>,
  { additionalProperties: false }
)

export const CreateUserRequestSchema = Type.Object({
  user_id: Type.Optional(Type.String({ pattern: KALEYRA_ID_PATTERN })),
  role: Type.Union(KALEYRA_ROLES.map(role => Type.Literal(role)))
})
export type CreateUserRequest = Static<typeof CreateUserRequestSchema>

/** `PUT /v2/users/{id}`: only the role is ever changed (basic → plus). */
export const UpdateUserRequestSchema = Type.Object({
  role: Type.Union(KALEYRA_ROLES.map(role => Type.Literal(role)))
})
export type UpdateUserRequest = Static<typeof UpdateUserRequestSchema>

export const RoomParticipantRequestSchema = Type.Object({
  user_id: Type.String({ pattern: KALEYRA_ID_PATTERN }),
  is_admin: Type.Boolean(),
  tools: Type.Optional(ToolsSchema)
})

export const CreateRoomRequestSchema = Type.Object({
  participants: Type.Array(RoomParticipantRequestSchema),
  duration: Type.Optional(Type.Integer()),
  recording: Type.Union(RECORDING_TYPES.map(type => Type.Literal(type))),
  offline_transcription: Type.Optional(Type.Boolean()),
  live: Type.Optional(Type.Boolean()),
  call_type: Type.Optional(Type.String()),
  description: Type.Optional(Type.String())
})
export type CreateRoomRequest = Static<typeof CreateRoomRequestSchema>

export const SdkCredentialsRequestSchema = Type.Object({
  user_id: Type.String(),
  expires_in: Type.Integer()
})
export type SdkCredentialsRequest = Static<typeof SdkCredentialsRequestSchema>

export const UpdateCompanyRequestSchema = Type.Object({
  background_alias: Type.String()
})
export type UpdateCompanyRequest = Static<typeof UpdateCompanyRequestSchema>

/** The multipart field Kaleyra expects for a company virtual background. */
export const VIRTUAL_BACKGROUND_FIELD = 'virtual_background'

export const paths = {
  users: () => '/v2/users',
  user: (userId: string) => `/v2/users/${encodeURIComponent(userId)}`,
  rooms: () => '/v2/rooms',
  room: (roomId: string) => `/v2/rooms/${encodeURIComponent(roomId)}`,
  uploads: () => '/v2/uploads',
  upload: (key: string) => `/v2/uploads/${encodeURIComponent(key)}`,
  sdkCredentials: () => '/v2/sdk/credentials',
  company: () => '/v2/company',
  virtualBackground: () => '/v2/company/virtual-background',
  virtualBackgrounds: () => '/v2/company/virtual-backgrounds',
  sessions: () => '/v2/sessions',
  transcription: (sessionId: string) => `/v2/sessions/${encodeURIComponent(sessionId)}/transcription`
}

/** Query-string options understood by a participant link. */
export function decorateLink (link: string, options: { language?: string, virtualBackground?: boolean }): string {
  const url = new URL(link)
  if (options.language !== undefined) url.searchParams.set('language', options.language)
  if (options.virtualBackground === true) url.searchParams.set('virtual_background', 'image')
  return url.toString()
}

// ---------------------------------------------------------------------------------------------
// Response bodies (what we accept). Parsers are tolerant: extra fields are ignored, the older
// documented shapes are accepted, anything else is a KaleyraFormatError (mapped to 502).

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

const UserResponseSchema = Type.Union([
  Type.Object({ user_id: Type.String() }),
  Type.Object({ id: Type.String() }),
  Type.Object({ user: Type.Object({ id: Type.String() }) })
])

const LinkV1Schema = Type.Object({ user: Type.String(), url: Type.String() })

const RoomBodySchema = Type.Object({
  room_id: Type.Optional(Type.String()),
  id: Type.Optional(Type.String()),
  participants: Type.Optional(Type.Array(Type.Object({ user_id: Type.String(), link: Type.Optional(Type.String()) }))),
  user_urls: Type.Optional(Type.Array(LinkV1Schema)),
  recording: Type.Optional(Nullable(Type.String())),
  recording_status: Type.Optional(Nullable(Type.String())),
  call_type: Type.Optional(Nullable(Type.String())),
  description: Type.Optional(Nullable(Type.String())),
  status: Type.Optional(Nullable(Type.String())),
  disabled: Type.Optional(Nullable(Type.Boolean())),
  creation_date: Type.Optional(Nullable(Type.String())),
  duration: Type.Optional(Nullable(Type.Number())),
  duration_used: Type.Optional(Nullable(Type.Number())),
  live: Type.Optional(Nullable(Type.Boolean()))
})
const RoomResponseSchema = Type.Union([
  Type.Object({ room: RoomBodySchema }),
  RoomBodySchema
])

const PageSchema = {
  offset: Type.Optional(Type.Integer()),
  limit: Type.Optional(Type.Integer()),
  count: Type.Optional(Type.Integer()),
  has_more: Type.Optional(Type.Boolean())
}

const RoomListResponseSchema = Type.Object({ rooms: Type.Array(RoomBodySchema), ...PageSchema })

const UploadSchema = Type.Object({
  key: Type.String(),
  room_id: Type.Optional(Type.String()),
  file_name: Type.Optional(Type.String()),
  creation_date: Type.Optional(Type.String())
})
const UploadListResponseSchema = Type.Object({ uploads: Type.Array(UploadSchema), ...PageSchema })

const SessionSchema = Type.Object({
  session_id: Type.Optional(Type.String()),
  id: Type.Optional(Type.String()),
  room_id: Type.Optional(Type.String()),
  start_date: Type.Optional(Nullable(Type.String())),
  end_date: Type.Optional(Nullable(Type.String()))
})
const SessionListResponseSchema = Type.Object({ sessions: Type.Array(SessionSchema), ...PageSchema })

const SdkCredentialsResponseSchema = Type.Object({
  access_token: Type.String(),
  expires_at: Type.String(),
  user_id: Type.String()
})

const BackgroundSchema = Type.Object({
  alias: Type.Optional(Type.String()),
  background_alias: Type.Optional(Type.String()),
  url: Type.String(),
  creation_date: Type.String()
})
const BackgroundResponseSchema = Type.Union([
  Type.Object({ virtual_background: BackgroundSchema }),
  BackgroundSchema
])

const BackgroundListResponseSchema = Type.Union([
  Type.Object({ virtual_backgrounds: Type.Array(BackgroundSchema) }),
  Type.Array(BackgroundSchema)
])

const CompanyBodySchema = Type.Object({
  name: Type.String(),
  default_language: Type.Optional(Nullable(Type.String())),
  default_background: Type.Optional(Nullable(Type.Union([Type.String(), BackgroundSchema]))),
  end_call_redirect_url: Type.Optional(Nullable(Type.String())),
  user_details_provider_url: Type.Optional(Nullable(Type.String())),
  end_call_redirect_timeout_ms: Type.Optional(Nullable(Type.Number()))
})
const CompanyResponseSchema = Type.Union([Type.Object({ company: CompanyBodySchema }), CompanyBodySchema])

const compiled = {
  user: TypeCompiler.Compile(UserResponseSchema),
  room: TypeCompiler.Compile(RoomResponseSchema),
  roomList: TypeCompiler.Compile(RoomListResponseSchema),
  uploadList: TypeCompiler.Compile(UploadListResponseSchema),
  sessionList: TypeCompiler.Compile(SessionListResponseSchema),
  sdkCredentials: TypeCompiler.Compile(SdkCredentialsResponseSchema),
  background: TypeCompiler.Compile(BackgroundResponseSchema),
  backgroundList: TypeCompiler.Compile(BackgroundListResponseSchema),
  company: TypeCompiler.Compile(CompanyResponseSchema)
}

function check<T> (checker: { Check: (value: unknown) => value is T }, value: unknown, operation: string): T {
  if (!checker.Check(value)) throw new KaleyraFormatError(operation)
  return value
}

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

export function parseUserId (body: unknown, operation = 'createUser'): string {
  const parsed = check(compiled.user, body, operation)
  if ('user_id' in parsed) return parsed.user_id
  if ('id' in parsed) return parsed.id
  return parsed.user.id
}

/** A user's role, wherever the answer puts it; null when it says none (or an unknown one). */
export function parseUserRole (body: unknown): KaleyraRole | null {
  const record = typeof body === 'object' && body !== null ? body as Record<string, unknown> : {}
  const inner = typeof record.user === 'object' && record.user !== null ? record.user as Record<string, unknown> : {}
  const role = record.role ?? inner.role
  return KALEYRA_ROLES.find(known => known === role) ?? null
}

function toRoom (body: Static<typeof RoomBodySchema>, operation: string): KaleyraRoom {
  const roomId = body.room_id ?? body.id
  if (roomId === undefined || roomId === '') throw new KaleyraFormatError(operation)
  const links: KaleyraRoomLink[] = []
  for (const p of body.participants ?? []) if (p.link !== undefined) links.push({ userId: p.user_id, link: p.link })
  for (const u of body.user_urls ?? []) links.push({ userId: u.user, link: u.url })
  return {
    roomId,
    links,
    recording: body.recording ?? null,
    recordingStatus: body.recording_status ?? null,
    callType: body.call_type ?? null,
    description: body.description ?? null,
    status: body.status ?? null,
    disabled: body.disabled ?? null,
    creationDate: body.creation_date ?? null,
    durationInSeconds: body.duration ?? null,
    durationUsedInSeconds: body.duration_used ?? null,
    live: body.live ?? null
  }
}

export function parseRoom (body: unknown, operation = 'getRoom'): KaleyraRoom {
  const parsed = check(compiled.room, body, operation)
  return toRoom('room' in parsed ? parsed.room : parsed, operation)
}

export interface Page<T> { items: T[], hasMore: boolean }

function hasMore (body: { has_more?: boolean, count?: number, limit?: number }, length: number): boolean {
  if (body.has_more !== undefined) return body.has_more
  // Without has_more, a full page means there may be more.
  return body.limit !== undefined && length >= body.limit && length > 0
}

export function parseRoomList (body: unknown): Page<KaleyraRoom> {
  const parsed = check(compiled.roomList, body, 'listRooms')
  return { items: parsed.rooms.map(room => toRoom(room, 'listRooms')), hasMore: hasMore(parsed, parsed.rooms.length) }
}

export interface KaleyraUpload { key: string, roomId: string | null, fileName: string | null, creationDate: string | null }

export function parseUploadList (body: unknown): Page<KaleyraUpload> {
  const parsed = check(compiled.uploadList, body, 'listUploads')
  return {
    items: parsed.uploads.map(u => ({ key: u.key, roomId: u.room_id ?? null, fileName: u.file_name ?? null, creationDate: u.creation_date ?? null })),
    hasMore: hasMore(parsed, parsed.uploads.length)
  }
}

export interface KaleyraSession { sessionId: string, roomId: string | null, startDate: string | null, endDate: string | null }

export function parseSessionList (body: unknown): Page<KaleyraSession> {
  const parsed = check(compiled.sessionList, body, 'listSessions')
  const items: KaleyraSession[] = []
  for (const s of parsed.sessions) {
    const sessionId = s.session_id ?? s.id
    if (sessionId === undefined) throw new KaleyraFormatError('listSessions')
    items.push({ sessionId, roomId: s.room_id ?? null, startDate: s.start_date ?? null, endDate: s.end_date ?? null })
  }
  return { items, hasMore: hasMore(parsed, parsed.sessions.length) }
}

export interface SdkCredentials { accessToken: string, expiresAt: string, userId: string }

export function parseSdkCredentials (body: unknown): SdkCredentials {
  const parsed = check(compiled.sdkCredentials, body, 'createSdkCredentials')
  return { accessToken: parsed.access_token, expiresAt: parsed.expires_at, userId: parsed.user_id }
}

export interface VirtualBackground { alias: string, url: string, creationDate: string }

function toBackground (body: Static<typeof BackgroundSchema>, operation: string): VirtualBackground {
  const alias = body.alias ?? body.background_alias
  if (alias === undefined) throw new KaleyraFormatError(operation)
  return { alias, url: body.url, creationDate: body.creation_date }
}

export function parseVirtualBackground (body: unknown): VirtualBackground {
  const parsed = check(compiled.background, body, 'uploadVirtualBackground')
  return toBackground('virtual_background' in parsed ? parsed.virtual_background : parsed, 'uploadVirtualBackground')
}

export function parseVirtualBackgroundList (body: unknown): VirtualBackground[] {
  const parsed = check(compiled.backgroundList, body, 'listVirtualBackgrounds')
  return (Array.isArray(parsed) ? parsed : parsed.virtual_backgrounds).map(bg => toBackground(bg, 'listVirtualBackgrounds'))
}

export interface Company {
  name: string
  defaultLanguage: string | null
  /** v2 may answer with the alias only; then url and creationDate are null. */
  defaultBackground: { alias: string, url: string | null, creationDate: string | null } | null
  endCallRedirectUrl: string | null
  userDetailsProviderUrl: string | null
  endCallRedirectTimeoutMs: number | null
}

export function parseCompany (body: unknown, operation = 'getCompany'): Company {
  const parsed = check(compiled.company, body, operation)
  const company = 'company' in parsed ? parsed.company : parsed
  const bg = company.default_background
  let defaultBackground: Company['defaultBackground'] = null
  if (typeof bg === 'string') defaultBackground = { alias: bg, url: null, creationDate: null }
  else if (bg !== null && bg !== undefined) defaultBackground = toBackground(bg, operation)
  return {
    name: company.name,
    defaultLanguage: company.default_language ?? null,
    defaultBackground,
    endCallRedirectUrl: company.end_call_redirect_url ?? null,
    userDetailsProviderUrl: company.user_details_provider_url ?? null,
    endCallRedirectTimeoutMs: company.end_call_redirect_timeout_ms ?? null
  }
}

/** Kaleyra error bodies: `{ error, message }`. Only the error name is ever surfaced (never the raw body). */
const ErrorBodySchema = Type.Object({ error: Type.Optional(Type.String()), message: Type.Optional(Type.String()) })
const errorBody = TypeCompiler.Compile(ErrorBodySchema)

export function parseErrorName (body: unknown): string | undefined {
  return errorBody.Check(body) ? body.error : undefined
}
