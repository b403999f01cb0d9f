// A Kaleyra Video v2 emulator: a real HTTP server that enforces Kaleyra's rules, answers the
// shapes src/kaleyra/wire.ts parses, and can inject latency, errors, resets and hangs. A second
// server (the file origin) serves the files it gives as temporary links.
import type { AddressInfo } from 'node:net'
import { buildEmulatorApp } from './app.js'
import { addSessionTo, advanceClockOf, configure, deactivateUserOf, setRecordingReadyOf, setTranscriptionOf } from './control.js'
import { FaultList, type FaultRule } from './faults.js'
import { startFileOrigin } from './files.js'
import { Lifecycle } from './pipeline.js'
import { checkSettings, type EmulatorSettings } from './settings.js'
import { WebhookSender, type WebhookDelivery } from './webhooks.js'
import { EmulatorState, publicRoom, type EmulatedRoom, type FileRequestEntry, type JoinRecord, type RequestLogEntry, type TeleconsultationDirectory } from './state.js'

export type { FaultRule, FaultKind, FaultPhase } from './faults.js'
export type { EmulatedRoom, EmulatedParticipant, FileRequestEntry, JoinRecord, RequestLogEntry, TeleconsultationDirectory } from './state.js'
export type { EmulatorSettings } from './settings.js'
export type { WebhookDelivery } from './webhooks.js'

export interface EmulatorOptions {
  apiKey: string
  /** Default 127.0.0.1. */
  host?: string
  /** Default 0 (any free port). */
  port?: number
  /** Default false. */
  logger?: boolean
  /**
   * Origin put in the links it hands out (join pages, backgrounds) when the listening address is not what browsers
   * reach (Docker).
   */
  publicUrl?: string
  /** Behaviour switches (see EmulatorSettings); reset() comes back to these. */
  settings?: Partial<EmulatorSettings>
}

export interface AddSessionOptions {
  /** A JSON transcription: present = ready. */
  transcription?: unknown
  /** A generated JSON transcription of exactly this many bytes, streamed when requested. */
  transcriptionBytes?: number
  /** Default true (the session has an end date). */
  ended?: boolean
}

export interface KaleyraEmulator {
  /** `http://127.0.0.1:<port>`, usable as BANDYER_BASE_URL. */
  readonly url: string
  /** Origin of the file server (transcriptions and recordings given as links), on the same host, another port. */
  readonly filesUrl: string
  readonly apiKey: string
  /** Closes the server, ending delayed, hanging and streaming requests. */
  close: () => Promise<void>
  faults: { add: (rule: FaultRule) => void, clear: () => void }
  /** Rooms not deleted, in creation order. */
  liveRooms: () => EmulatedRoom[]
  users: () => Array<{ userId: string, role: 'basic' | 'plus' }>
  /** One user with its state; undefined when unknown. */
  user: (userId: string) => { userId: string, role: 'basic' | 'plus', active: boolean } | undefined
  /** Deactivates a user (as `PUT /v2/users/{id}` `{ active: false }` does); false when unknown. */
  deactivateUser: (userId: string) => boolean
  /** Every /v2 call in arrival order; status 0 = no answer (reset, hang). */
  requests: () => RequestLogEntry[]
  /** Distinct user-agent headers of /v2 calls. */
  userAgents: () => string[]
  /** Every request the file origin received, with its headers. */
  fileRequests: () => FileRequestEntry[]
  settings: () => EmulatorSettings
  /** Changes some settings (a TypeError names a bad one); returns them all. */
  configure: (changes: Partial<EmulatorSettings>) => EmulatorSettings
  /** Rooms that existed before (a company's history), `ageMs` old (default a day); returns their ids. */
  addRooms: (count: number, ageMs?: number) => string[]
  /** Simulates files uploaded during a call; returns their keys. */
  addUploads: (roomId: string, count: number) => string[]
  uploadsOf: (roomId: string) => string[]
  /** Returns the session id. */
  addSession: (roomId: string, opts?: AddSessionOptions) => string
  /** `{ bytes: n }` (exactly that) asks for a generated transcription of n bytes. */
  setTranscription: (sessionId: string, transcription: unknown) => void
  /** Where signed webhooks go (room deleted, recording or transcription ready); null: none (the default). */
  setWebhookUrl: (url: string | null) => void
  /** Webhooks sent, in order, with the status they got (0: no answer); awaits those in flight. */
  webhookDeliveries: () => Promise<WebhookDelivery[]>
  /**
   * The session's recording is ready: its link can be asked for, and on_recording_available is sent (a TypeError when
   * its room does not record).
   */
  setRecordingReady: (sessionId: string) => void
  /** Moves the emulator's clock forward by `ms` (recording links expire on it); reset() puts it back. */
  advanceClock: (ms: number) => void
  /** Call pages opened (participants joining), first first. */
  joins: () => JoinRecord[]
  /** Lets controls and pages name rooms by teleconsultation id (the demo lends its store); null: Kaleyra ids only. */
  useTeleconsultations: (directory: TeleconsultationDirectory | null) => void
  /** Origins that may embed the call page in a frame (default none: `frame-ancestors 'none'`). */
  allowFraming: (origins: string[]) => void
  /**
   * Forgets everything but the api key, the start settings, the directory and the framing origins, and clears the
   * faults.
   */
  reset: () => void
}

function urlOf (address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${host}:${address.port}`
}

export async function startKaleyraEmulator (opts: EmulatorOptions): Promise<KaleyraEmulator> {
  if (typeof opts.apiKey !== 'string' || opts.apiKey === '') throw new TypeError('the emulator needs an apiKey')
  const state = new EmulatorState()
  state.webhooks = new WebhookSender(opts.apiKey)
  state.startSettings = { ...state.startSettings, ...checkSettings(opts.settings ?? {}) }
  state.settings = { ...state.startSettings }
  const faults = new FaultList()
  const lifecycle = new Lifecycle()
  const reset = (): void => {
    state.reset()
    faults.clear()
  }
  const app = await buildEmulatorApp({
    apiKey: opts.apiKey,
    logger: opts.logger ?? false,
    state,
    faults,
    lifecycle,
    reset
  })
  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 })
  const url = urlOf(app.server.address() as AddressInfo)
  state.baseUrl = opts.publicUrl?.replace(/\/+$/, '') ?? url
  const files = await startFileOrigin(state, opts.host ?? '127.0.0.1')
  state.filesUrl = files.url

  let closed: Promise<void> | undefined
  return {
    url,
    filesUrl: files.url,
    apiKey: opts.apiKey,
    close: async () => {
      closed ??= (async () => {
        lifecycle.close()
        await Promise.all([app.close(), files.close(), state.webhooks.idle()])
      })()
      await closed
    },
    faults: { add: rule => faults.add(rule), clear: () => faults.clear() },
    liveRooms: () => state.liveRooms().map(publicRoom),
    users: () => [...state.users.values()].map(u => ({ userId: u.userId, role: u.role })),
    user: (userId) => {
      const user = state.users.get(userId)
      return user === undefined ? undefined : { userId: user.userId, role: user.role, active: user.active }
    },
    deactivateUser: userId => deactivateUserOf(state, userId),
    requests: () => state.requestLog.map(entry => ({ ...entry, query: { ...entry.query } })),
    userAgents: () => [...state.userAgents],
    fileRequests: () => state.fileRequests.map(entry => ({ ...entry, headers: { ...entry.headers } })),
    settings: () => ({ ...state.settings }),
    configure: changes => configure(state, changes),
    addRooms: (count, ageMs) => state.addRooms(count, ageMs),
    addUploads: (roomId, count) => state.addUploads(roomId, count),
    uploadsOf: roomId => state.uploadsOf(roomId),
    addSession: (roomId, sessionOpts) => addSessionTo(state, roomId, sessionOpts),
    setTranscription: (sessionId, transcription) => setTranscriptionOf(state, sessionId, transcription),
    setWebhookUrl: url => { state.webhooks.url = url },
    webhookDeliveries: async () => {
      await state.webhooks.idle()
      return state.webhooks.deliveries.map(d => ({ ...d }))
    },
    setRecordingReady: sessionId => setRecordingReadyOf(state, sessionId),
    advanceClock: ms => { advanceClockOf(state, ms) },
    joins: () => state.joins.map(j => ({ ...j })),
    useTeleconsultations: directory => { state.directory = directory },
    allowFraming: origins => {
      for (const origin of origins) {
        if (!/^https?:\/\/[^\s/;,]+$/.test(origin)) throw new TypeError(`not an origin: ${origin}`)
      }
      state.frameAncestors = [...origins]
    },
    reset
  }
}
