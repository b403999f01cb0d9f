// Everything the emulated Kaleyra company holds. Routes validate; this module only stores.
import { randomBytes } from 'node:crypto'
import { TOOL_NAMES, type KaleyraRole, type RecordingType, type Tools } from '../kaleyra/model.js'
import { DEFAULT_SETTINGS, type EmulatorSettings } from './settings.js'
import { WebhookSender } from './webhooks.js'

export interface EmulatedParticipant { userId: string, isAdmin: boolean, tools: Tools, link: string }

export interface EmulatedRoom {
  roomId: string
  participants: EmulatedParticipant[]
  recording: RecordingType
  offlineTranscription: boolean
  duration: number | null
  live: boolean
  description: string | null
  createdAt: string
}

export interface RoomRecord extends EmulatedRoom {
  callType: string
  deleted: boolean
}

export interface UserRecord { userId: string, role: KaleyraRole, active: boolean, createdAt: string }

export interface UploadRecord { key: string, roomId: string, fileName: string, createdAt: string }

/** A ready transcription: JSON bytes given by a test, or a document generated on the fly. */
export type TranscriptionSource = { kind: 'json', body: Buffer } | { kind: 'generated', bytes: number }

export interface SessionRecord {
  sessionId: string
  roomId: string
  startDate: string
  endDate: string | null
  transcription: TranscriptionSource | null
  /** Whether the session's recording is ready (GET /v2/sessions/{id}/recording answers a link). */
  recordingReady?: boolean
}

export interface BackgroundRecord { alias: string, bytes: Buffer, createdAt: string }

export interface CompanyRecord {
  name: string
  defaultLanguage: string
  defaultBackground: string | null
  endCallRedirectUrl: string
  userDetailsProviderUrl: string
  endCallRedirectTimeoutMs: number
}

export interface RequestLogEntry { method: string, path: string, query: Record<string, string>, status: number }

/**
 * A request to the file origin, headers included (to show which credentials a link's host got);
 * `bytes`: body bytes sent so far.
 */
export interface FileRequestEntry {
  method: string
  path: string
  headers: Record<string, string | string[] | undefined>
  status: number
  bytes: number
}

/**
 * A temporary link on the file origin: the session's transcription or recording, until `expiresAt` (emulator clock,
 * ms).
 */
export interface FileLink { sessionId: string, file: 'transcription' | 'recording', expiresAt: number | null }

export const MAX_LOGGED_REQUESTS = 100_000
const MAX_USER_AGENTS = 100

export interface JoinTarget { roomId: string, userId: string }

/** A participant opening their link (the call page); teleconsultationId when the directory knows it. */
export interface JoinRecord { roomId: string, userId: string, teleconsultationId: string | null, at: string }

/**
 * Where the service's teleconsultations are. Kaleyra (and so the emulator) only knows room ids;
 * the demo, which runs the emulator in the service's process, lends it this lookup so that the
 * controls and pages speak in teleconsultation ids too.
 */
export interface TeleconsultationDirectory {
  /** The current Kaleyra room of a teleconsultation; null when it has none or is unknown. */
  roomOf: (teleconsultationId: string) => Promise<string | null>
  /** The teleconsultation whose current room this is; null when none. */
  teleconsultationOf: (roomId: string) => Promise<string | null>
}

const MAX_JOINS = 10_000

export function randomHex (bytes: number): string {
  return randomBytes(bytes).toString('hex')
}

function defaultCompany (): CompanyRecord {
  return {
    name: 'Emulated Company',
    defaultLanguage: 'en',
    defaultBackground: null,
    endCallRedirectUrl: '',
    userDetailsProviderUrl: '',
    endCallRedirectTimeoutMs: 5000
  }
}

export class EmulatorState {
  /** Origin of the emulator, used to build links and background urls. Set once listening. */
  baseUrl = ''
  /** Origin of the second server that serves files given as links (transcriptions). Set once listening. */
  filesUrl = ''
  /** What reset() returns to: the defaults with the start options applied. */
  startSettings: EmulatorSettings = { ...DEFAULT_SETTINGS }
  settings: EmulatorSettings = { ...DEFAULT_SETTINGS }
  users = new Map<string, UserRecord>()
  /** Insertion order = creation order; deleted rooms stay so their links can say "no longer exists". */
  rooms = new Map<string, RoomRecord>()
  links = new Map<string, JoinTarget>()
  uploads = new Map<string, UploadRecord>()
  sessions = new Map<string, SessionRecord>()
  backgrounds = new Map<string, BackgroundRecord>()
  company: CompanyRecord = defaultCompany()
  requestLog: RequestLogEntry[] = []
  /** Distinct user-agent values of /v2 calls, first seen first. */
  userAgents = new Set<string>()
  /** File link token → what it serves. */
  fileLinks = new Map<string, FileLink>()
  /** Added to the real time by `advanceClock` (recording links expire on this clock). */
  clockOffsetMs = 0
  fileRequests: FileRequestEntry[] = []
  /** Webhooks sent when rooms are deleted and recordings or transcriptions become ready. */
  webhooks = new WebhookSender('')
  /** Call pages opened, first first (the most recent MAX_JOINS). */
  joins: JoinRecord[] = []
  /** Set by the demo; null: ids are Kaleyra room ids only. Kept by reset(). */
  directory: TeleconsultationDirectory | null = null
  /** Origins allowed to embed the call page in a frame (the demo's waiting room); none by default. Kept by reset(). */
  frameAncestors: string[] = []

  reset (): void {
    this.webhooks.reset()
    this.users.clear()
    this.rooms.clear()
    this.links.clear()
    this.uploads.clear()
    this.sessions.clear()
    this.backgrounds.clear()
    this.company = defaultCompany()
    this.requestLog = []
    this.userAgents.clear()
    this.fileLinks.clear()
    this.clockOffsetMs = 0
    this.fileRequests = []
    this.joins = []
    this.settings = { ...this.startSettings }
  }

  noteUserAgent (value: string | undefined): void {
    if (value !== undefined && this.userAgents.size < MAX_USER_AGENTS) this.userAgents.add(value)
  }

  logFileRequest (entry: FileRequestEntry): FileRequestEntry {
    this.fileRequests.push(entry)
    if (this.fileRequests.length > MAX_LOGGED_REQUESTS) this.fileRequests.shift()
    return entry
  }

  /** The emulator's clock (real time plus what `advanceClock` added), in ms. */
  now (): number {
    return Date.now() + this.clockOffsetMs
  }

  /** A temporary link on the file origin (a transcription's never expires: it is not said to). */
  newFileLink (sessionId: string, file: FileLink['file'] = 'transcription', expiresAt: number | null = null): string {
    const token = randomBytes(18).toString('base64url')
    this.fileLinks.set(token, { sessionId, file, expiresAt })
    return `${this.filesUrl}/files/${token}`
  }

  addUser (userId: string, role: KaleyraRole): UserRecord {
    const user: UserRecord = { userId, role, active: true, createdAt: new Date().toISOString() }
    this.users.set(userId, user)
    return user
  }

  /**
   * Rooms that existed before the test (a company's history): `ageMs` old (default a day), in
   * creation order, between two seeded users.
   */
  addRooms (count: number, ageMs = 24 * 3_600_000): string[] {
    if (!Number.isInteger(count) || count < 0) throw new TypeError('count must be a non-negative integer')
    if (!Number.isFinite(ageMs) || ageMs < 0) throw new TypeError('ageMs must be a non-negative number')
    for (const [userId, role] of [['seeded_plus', 'plus'], ['seeded_basic', 'basic']] as const) {
      if (!this.users.has(userId)) this.addUser(userId, role)
    }
    const tools = Object.fromEntries(TOOL_NAMES.map(name => [name, true])) as Tools
    const start = Date.now() - ageMs
    const ids: string[] = []
    for (let i = 0; i < count; i++) {
      const roomId = `room_${randomHex(6)}`
      this.rooms.set(roomId, {
        roomId,
        participants: ['seeded_plus', 'seeded_basic'].map(userId => ({ userId, isAdmin: userId === 'seeded_plus', tools: { ...tools }, link: this.newLink(roomId, userId) })),
        recording: 'none',
        offlineTranscription: false,
        duration: null,
        live: false,
        description: `seeded room ${i + 1}`,
        createdAt: new Date(start + i).toISOString(),
        callType: 'audio_video',
        deleted: false
      })
      ids.push(roomId)
    }
    return ids
  }

  /** Keeps the most recent MAX_LOGGED_REQUESTS entries, so long benchmark runs stay bounded. */
  logRequest (entry: RequestLogEntry): void {
    this.requestLog.push(entry)
    if (this.requestLog.length > MAX_LOGGED_REQUESTS * 1.1) {
      this.requestLog.splice(0, this.requestLog.length - MAX_LOGGED_REQUESTS)
    }
  }

  noteJoin (join: JoinRecord): void {
    this.joins.push(join)
    if (this.joins.length > MAX_JOINS) this.joins.shift()
  }

  /** A Kaleyra room id, or (with a directory) a teleconsultation id, to the Kaleyra room id; undefined when neither. */
  async resolveRoomId (id: string): Promise<string | undefined> {
    if (this.rooms.has(id)) return id
    const roomId = await this.directory?.roomOf(id) ?? null
    return roomId !== null && this.rooms.has(roomId) ? roomId : undefined
  }

  /** The teleconsultation using a room, when the directory knows it (a failing lookup is not the page's problem). */
  async teleconsultationOf (roomId: string): Promise<string | null> {
    try {
      return await this.directory?.teleconsultationOf(roomId) ?? null
    } catch {
      return null
    }
  }

  liveRoom (roomId: string): RoomRecord | undefined {
    const room = this.rooms.get(roomId)
    return room === undefined || room.deleted ? undefined : room
  }

  liveRooms (): RoomRecord[] {
    return [...this.rooms.values()].filter(room => !room.deleted)
  }

  newLink (roomId: string, userId: string): string {
    const token = randomBytes(18).toString('base64url')
    this.links.set(token, { roomId, userId })
    return `${this.baseUrl}/join/${token}`
  }

  addUploads (roomId: string, count: number): string[] {
    if (!this.rooms.has(roomId)) throw new Error(`unknown room ${roomId}`)
    if (!Number.isInteger(count) || count < 0) throw new Error('count must be a non-negative integer')
    const keys: string[] = []
    const existing = this.uploadsOf(roomId).length
    for (let i = 0; i < count; i++) {
      const key = `upload_${randomHex(10)}`
      this.uploads.set(key, { key, roomId, fileName: `file-${existing + i + 1}.pdf`, createdAt: new Date().toISOString() })
      keys.push(key)
    }
    return keys
  }

  uploadsOf (roomId: string): string[] {
    return [...this.uploads.values()].filter(u => u.roomId === roomId).map(u => u.key)
  }

  addSession (roomId: string, opts: { transcription?: TranscriptionSource | null, ended?: boolean } = {}): string {
    if (!this.rooms.has(roomId)) throw new Error(`unknown room ${roomId}`)
    const sessionId = `session_${randomHex(10)}`
    const now = Date.now()
    this.sessions.set(sessionId, {
      sessionId,
      roomId,
      startDate: new Date(now - 60_000).toISOString(),
      endDate: opts.ended === false ? null : new Date(now).toISOString(),
      transcription: opts.transcription ?? null
    })
    return sessionId
  }
}

/** Public copy of a room, so callers cannot change the emulator's state through it. */
export function publicRoom (room: RoomRecord): EmulatedRoom {
  return {
    roomId: room.roomId,
    participants: room.participants.map(p => ({ ...p, tools: { ...p.tools } })),
    recording: room.recording,
    offlineTranscription: room.offlineTranscription,
    duration: room.duration,
    live: room.live,
    description: room.description,
    createdAt: room.createdAt
  }
}
