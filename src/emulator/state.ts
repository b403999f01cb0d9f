// Everything the emulated Kaleyra company holds. Routes validate; this module only stores.
import { randomBytes } from 'node:crypto'
import type { KaleyraRole, RecordingType, Tools } from '../kaleyra/wire.js'

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

export interface UserRecord { userId: string, role: KaleyraRole, createdAt: string }

export interface UploadRecord { key: string, roomId: string, fileName: string, createdAt: string }

/** A ready transcription: JSON bytes given by a test, or a document generated on the fly. */
export type TranscriptionSource = { kind: 'json', body: Buffer } | { kind: 'generated', bytes: number }

export interface SessionRecord {
  sessionId: string
  roomId: string
  startDate: string
  endDate: string | null
  transcription: TranscriptionSource | null
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

export const MAX_LOGGED_REQUESTS = 100_000

export interface JoinTarget { roomId: string, userId: string }

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
  users = new Map<string, UserRecord>()
  /** Insertion order = creation order; deleted rooms stay so their links can say "no longer exists". */
  rooms = new Map<string, RoomRecord>()
  links = new Map<string, JoinTarget>()
  uploads = new Map<string, UploadRecord>()
  sessions = new Map<string, SessionRecord>()
  backgrounds = new Map<string, BackgroundRecord>()
  company: CompanyRecord = defaultCompany()
  requestLog: RequestLogEntry[] = []

  reset (): void {
    this.users.clear()
    this.rooms.clear()
    this.links.clear()
    this.uploads.clear()
    this.sessions.clear()
    this.backgrounds.clear()
    this.company = defaultCompany()
    this.requestLog = []
  }

  /** Keeps the most recent MAX_LOGGED_REQUESTS entries, so long benchmark runs stay bounded. */
  logRequest (entry: RequestLogEntry): void {
    this.requestLog.push(entry)
    if (this.requestLog.length > MAX_LOGGED_REQUESTS * 1.1) this.requestLog.splice(0, this.requestLog.length - MAX_LOGGED_REQUESTS)
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
