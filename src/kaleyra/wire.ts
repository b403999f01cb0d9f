// The one place that knows Kaleyra Video's v2 wire format (its vocabulary is in model.ts).
// Several v2 field names are not publicly confirmed (see docs/kaleyra.md): every request shape
// we send and every response shape we accept lives here, and the emulator answers exactly these,
// so a correction is a change to this file only.
import { Type, type Static, type TSchema } from '../lib/typebox.js'
import { KaleyraFormatError } from './errors.js'
import type { AnswerShape } from './shape.js'
import { checkerOf } from '../lib/type-check.js'
import {
  KALEYRA_ID_PATTERN, KALEYRA_ROLES, RECORDING_TYPES, TOOL_NAMES, type Company, type KaleyraRoom, type KaleyraRoomLink,
  type KaleyraSession, type KaleyraUpload, type KaleyraUser, type Page, type SdkCredentials, type ToolName,
  type VirtualBackground
} from './model.js'

// ---------------------------------------------------------------------------------------------
// Request bodies (what we send)

export const ToolsSchema = Type.Object(
  Object.fromEntries(TOOL_NAMES.map(name => [name, Type.Boolean()])) as Record<
    ToolName,
    ReturnType<typeof Type.Boolean>
  >,
  { additionalProperties: false }
)

/**
 * `POST /v2/users`. Kaleyra's User Management guide: a custom id is "a parameter "id" in the request
 * payload"; an unknown field is ignored and a random id generated, so the client checks the answer.
 */
export const CreateUserRequestSchema = Type.Object({
  id: Type.Optional(Type.String({ pattern: KALEYRA_ID_PATTERN })),
  role: Type.Union(KALEYRA_ROLES.map(role => Type.Literal(role)))
})
export type CreateUserRequest = Static<typeof CreateUserRequestSchema>

/**
 * `PUT /v2/users/{id}`: a role upgrade (basic → plus) and (de)activation (`active`, the documented Update User API).
 */
export const UpdateUserRequestSchema = Type.Object({
  role: Type.Optional(Type.Union(KALEYRA_ROLES.map(role => Type.Literal(role)))),
  active: Type.Optional(Type.Boolean())
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
  transcription: (sessionId: string) => `/v2/sessions/${encodeURIComponent(sessionId)}/transcription`,
  recording: (sessionId: string) => `/v2/sessions/${encodeURIComponent(sessionId)}/recording`
}

/**
 * The query parameter that asks for a recording link's validity is not documented: `expires_in` is
 * assumed (see docs/kaleyra.md).
 */
export const RECORDING_LINK_EXPIRY_QUERY = 'expires_in'

// ---------------------------------------------------------------------------------------------
// Response bodies (what we accept). Parsers are tolerant: extra fields are ignored, the older
// documented shapes are accepted, anything else is a KaleyraFormatError (mapped to 502). Fields we
// do not use but Kaleyra is known to send are listed as Unknown, so that a diagnosis of an answer
// we could not read (see ANSWER_SHAPES) does not report them as unexpected.

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])
const Opaque = () => Type.Optional(Type.Unknown())

const UserBodySchema = Type.Object({
  id: Type.Optional(Type.String()),
  user_id: Type.Optional(Type.String()),
  role: Opaque(),
  active: Opaque(),
  allow_camera: Opaque(),
  creation_date: Opaque(),
  avatar_url: Opaque()
})
const UserResponseSchema = Type.Union([Type.Object({ user: UserBodySchema }), UserBodySchema])

const LinkV1Schema = Type.Object({ user: Type.String(), url: Type.String() })

/** Where a participant's personal link may be: `link` (what we assume for v2) or `url` (the v1 word). */
const LINK_FIELDS = ['link', 'url'] as const

const RoomParticipantSchema = Type.Object({
  user_id: Type.String(),
  link: Type.Optional(Type.String()),
  url: Type.Optional(Type.String()),
  is_admin: Opaque(),
  tools: Opaque()
})

const RoomBodySchema = Type.Object({
  room_id: Type.Optional(Type.String()),
  id: Type.Optional(Type.String()),
  participants: Type.Optional(Type.Array(RoomParticipantSchema)),
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
  live: Type.Optional(Nullable(Type.Boolean())),
  offline_transcription: Opaque()
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
  creation_date: Type.Optional(Type.String()),
  user_id: Opaque(),
  session_id: Opaque(),
  upload_type: Opaque()
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

/**
 * `GET /v2/sessions/{id}/recording`: a temporary download link (documented); its fields are not.
 * Assumed like `GET /v2/uploads/{key}` (documented `url`), with the link's end in `expires_at`
 * (ISO date) or `expires_in` (seconds) when Kaleyra says it.
 */
const RecordingLinkResponseSchema = Type.Object({
  url: Type.Optional(Type.String()),
  link: Type.Optional(Type.String()),
  download_url: Type.Optional(Type.String()),
  expires_at: Type.Optional(Nullable(Type.String())),
  expires_in: Type.Optional(Nullable(Type.Number())),
  session_id: Opaque(),
  room_id: Opaque()
})

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

/**
 * What each call's answer should look like, for diagnosing one we could not read: the schema we
 * accept (its keys are the known ones), the fields the service needs in the v2 shape we assume,
 * and the key some answers are wrapped in. `kaleyra:check` reports against the same table.
 */
export const ANSWER_SHAPES = {
  createUser: { schema: UserResponseSchema, expected: ['id'], wrapper: 'user' },
  getUser: { schema: UserResponseSchema, expected: ['id'], wrapper: 'user' },
  createRoom: { schema: RoomResponseSchema, expected: ['room_id', 'participants[].user_id', 'participants[].link'], wrapper: 'room' },
  getRoom: { schema: RoomResponseSchema, expected: ['room_id'], wrapper: 'room' },
  listRooms: { schema: RoomListResponseSchema, expected: ['rooms', 'rooms[].room_id', 'rooms[].description', 'has_more'] },
  listUploads: { schema: UploadListResponseSchema, expected: ['uploads', 'uploads[].key', 'has_more'] },
  listSessions: { schema: SessionListResponseSchema, expected: ['sessions', 'sessions[].session_id', 'has_more'] },
  getRecording: { schema: RecordingLinkResponseSchema, expected: ['url'] },
  createSdkCredentials: { schema: SdkCredentialsResponseSchema, expected: ['access_token', 'expires_at', 'user_id'] },
  getCompany: { schema: CompanyResponseSchema, expected: ['name'], wrapper: 'company' },
  updateCompany: { schema: CompanyResponseSchema, expected: ['name'], wrapper: 'company' },
  listVirtualBackgrounds: { schema: BackgroundListResponseSchema, expected: ['virtual_backgrounds', 'virtual_backgrounds[].alias', 'virtual_backgrounds[].url'] },
  uploadVirtualBackground: { schema: BackgroundResponseSchema, expected: ['alias', 'url', 'creation_date'], wrapper: 'virtual_background' }
} satisfies Record<string, AnswerShape>

export type ParsedCall = keyof typeof ANSWER_SHAPES

// Each compiled on the first answer it checks.
const checkers = {
  user: checkerOf(UserResponseSchema),
  room: checkerOf(RoomResponseSchema),
  roomList: checkerOf(RoomListResponseSchema),
  uploadList: checkerOf(UploadListResponseSchema),
  sessionList: checkerOf(SessionListResponseSchema),
  recordingLink: checkerOf(RecordingLinkResponseSchema),
  sdkCredentials: checkerOf(SdkCredentialsResponseSchema),
  background: checkerOf(BackgroundResponseSchema),
  backgroundList: checkerOf(BackgroundListResponseSchema),
  company: checkerOf(CompanyResponseSchema)
}

function check<T> (checker: { Check: (value: unknown) => value is T }, value: unknown, operation: string): T {
  if (!checker.Check(value)) throw new KaleyraFormatError(operation)
  return value
}

export function parseUser (body: unknown, operation = 'getUser'): KaleyraUser {
  const parsed = check(checkers.user, body, operation)
  const user = 'user' in parsed ? parsed.user : parsed
  const userId = user.id ?? user.user_id
  if (userId === undefined || userId === '') throw new KaleyraFormatError(operation)
  return {
    userId,
    role: KALEYRA_ROLES.find(known => known === user.role) ?? null,
    active: typeof user.active === 'boolean' ? user.active : null
  }
}

function toRoom (body: Static<typeof RoomBodySchema>, operation: string): KaleyraRoom {
  const roomId = body.room_id ?? body.id
  if (roomId === undefined || roomId === '') throw new KaleyraFormatError(operation)
  const links: KaleyraRoomLink[] = []
  for (const p of body.participants ?? []) {
    const link = LINK_FIELDS.map(field => p[field]).find(value => value !== undefined)
    if (link !== undefined) links.push({ userId: p.user_id, link })
  }
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
  const parsed = check(checkers.room, body, operation)
  return toRoom('room' in parsed ? parsed.room : parsed, operation)
}

function hasMore (body: { has_more?: boolean, count?: number, limit?: number }, length: number): boolean {
  if (body.has_more !== undefined) return body.has_more
  // Without has_more, a full page means there may be more.
  return body.limit !== undefined && length >= body.limit && length > 0
}

export function parseRoomList (body: unknown): Page<KaleyraRoom> {
  const parsed = check(checkers.roomList, body, 'listRooms')
  return { items: parsed.rooms.map(room => toRoom(room, 'listRooms')), hasMore: hasMore(parsed, parsed.rooms.length) }
}

export function parseUploadList (body: unknown): Page<KaleyraUpload> {
  const parsed = check(checkers.uploadList, body, 'listUploads')
  return {
    items: parsed.uploads.map(u => ({
      key: u.key,
      roomId: u.room_id ?? null,
      fileName: u.file_name ?? null,
      creationDate: u.creation_date ?? null
    })),
    hasMore: hasMore(parsed, parsed.uploads.length)
  }
}

export function parseSessionList (body: unknown): Page<KaleyraSession> {
  const parsed = check(checkers.sessionList, body, 'listSessions')
  const items: KaleyraSession[] = []
  for (const s of parsed.sessions) {
    const sessionId = s.session_id ?? s.id
    if (sessionId === undefined) throw new KaleyraFormatError('listSessions')
    items.push({ sessionId, roomId: s.room_id ?? null, startDate: s.start_date ?? null, endDate: s.end_date ?? null })
  }
  return { items, hasMore: hasMore(parsed, parsed.sessions.length) }
}

/** An absolute http(s) URL, or null: what a temporary file link must be. */
function httpUrl (value: string | undefined): string | null {
  if (value === undefined || !URL.canParse(value)) return null
  const { protocol } = new URL(value)
  return protocol === 'https:' || protocol === 'http:' ? value : null
}

/**
 * `asked`: when the link was asked for (an `expires_in` counts from then); `expiresAt` null when the answer does not
 * say.
 */
export function parseRecordingLink (body: unknown, asked: Date): { url: string, expiresAt: Date | null } {
  const parsed = check(checkers.recordingLink, body, 'getRecording')
  const url = RECORDING_LINK_FIELDS.map(field => httpUrl(parsed[field])).find(value => value !== null)
  if (url === undefined) throw new KaleyraFormatError('getRecording')
  let expiresAt: Date | null = null
  if (typeof parsed.expires_at === 'string' && !Number.isNaN(Date.parse(parsed.expires_at))) expiresAt = new Date(parsed.expires_at)
  else if (typeof parsed.expires_in === 'number' && Number.isFinite(parsed.expires_in) && parsed.expires_in > 0) expiresAt = new Date(asked.getTime() + parsed.expires_in * 1000)
  return { url, expiresAt }
}

export function parseSdkCredentials (body: unknown): SdkCredentials {
  const parsed = check(checkers.sdkCredentials, body, 'createSdkCredentials')
  return { accessToken: parsed.access_token, expiresAt: parsed.expires_at, userId: parsed.user_id }
}

function toBackground (body: Static<typeof BackgroundSchema>, operation: string): VirtualBackground {
  const alias = body.alias ?? body.background_alias
  if (alias === undefined) throw new KaleyraFormatError(operation)
  return { alias, url: body.url, creationDate: body.creation_date }
}

export function parseVirtualBackground (body: unknown): VirtualBackground {
  const parsed = check(checkers.background, body, 'uploadVirtualBackground')
  return toBackground('virtual_background' in parsed ? parsed.virtual_background : parsed, 'uploadVirtualBackground')
}

export function parseVirtualBackgroundList (body: unknown): VirtualBackground[] {
  const parsed = check(checkers.backgroundList, body, 'listVirtualBackgrounds')
  return (Array.isArray(parsed) ? parsed : parsed.virtual_backgrounds).map(bg => toBackground(bg, 'listVirtualBackgrounds'))
}

export function parseCompany (body: unknown, operation = 'getCompany'): Company {
  const parsed = check(checkers.company, body, operation)
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

/**
 * A transcription answered as a temporary link rather than the document (as recordings and
 * uploads are given): a small JSON object of plain fields (no list, no object: a document has
 * its segments) carrying an absolute http(s) URL under one of these keys.
 */
export const TRANSCRIPTION_LINK_FIELDS = ['url', 'link', 'download_url'] as const

/** Where a recording answer's link may be: the same fields. */
export const RECORDING_LINK_FIELDS = TRANSCRIPTION_LINK_FIELDS

/** The link of a transcription answer, or null when the answer is the transcription itself. */
export function transcriptionLinkOf (body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null
  if (Object.values(body).some(value => typeof value === 'object' && value !== null)) return null
  for (const field of TRANSCRIPTION_LINK_FIELDS) {
    const value = (body as Record<string, unknown>)[field]
    const link = typeof value === 'string' ? httpUrl(value) : null
    if (link !== null) return link
  }
  return null
}

/**
 * Kaleyra's error layout is not documented: the name is read from `error`, `name` or `code`
 * (strings). Only that name is ever surfaced or logged, never the free-text message.
 */
export interface KaleyraErrorBody { name: string | undefined, message: string | undefined }

export function parseErrorBody (body: unknown): KaleyraErrorBody {
  if (typeof body !== 'object' || body === null) return { name: undefined, message: undefined }
  const record = body as Record<string, unknown>
  const name = [record.error, record.name, record.code].find((value): value is string => typeof value === 'string')
  return { name, message: typeof record.message === 'string' ? record.message : undefined }
}

export function parseErrorName (body: unknown): string | undefined {
  return parseErrorBody(body).name
}

/**
 * The status of a duplicate user is not documented: 409, or a 400/422 whose error name or
 * message speaks of a duplicate or existing id ("You can't create a new user with the same id of
 * an inactive user"), means the user is already there.
 */
export function isDuplicateUserAnswer (status: number, body: unknown): boolean {
  if (status === 409) return true
  if (status !== 400 && status !== 422) return false
  const { name, message } = parseErrorBody(body)
  return /duplicat|exist|already/i.test(`${name ?? ''} ${message ?? ''}`)
}
