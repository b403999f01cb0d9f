// Test controls over HTTP (no apikey): inspect state, inject faults, change the settings, add
// rooms, uploads and sessions, make recordings ready, move the clock, deactivate users, reset. A
// room is named by its Kaleyra id or, in the demo (state.directory), by the id of the
// teleconsultation using it.
import type { FastifyInstance, FastifyReply } from 'fastify'
import { faultRuleFromJson, type FaultList } from './faults.js'
import { notFound, objectBody, validationError } from './http.js'
import { checkSettings, type EmulatorSettings } from './settings.js'
import { publicRoom, type EmulatorState, type SessionRecord } from './state.js'
import { generatedSource, transcriptionSource } from './transcription.js'

export interface SessionOptions { transcription?: unknown, transcriptionBytes?: number, ended?: boolean }

/** Shared by the programmatic API and the HTTP controls. */
export function addSessionTo (state: EmulatorState, roomId: string, opts: SessionOptions = {}): string {
  if (opts.transcription !== undefined && opts.transcriptionBytes !== undefined) {
    throw new TypeError('give either transcription or transcriptionBytes, not both')
  }
  let source = null
  if (opts.transcriptionBytes !== undefined) source = generatedSource(opts.transcriptionBytes)
  else if (opts.transcription !== undefined) source = transcriptionSource(opts.transcription)
  return state.addSession(roomId, { transcription: source, ended: opts.ended })
}

/** Shared by the programmatic API and the HTTP controls; a TypeError names a bad setting. */
export function configure (state: EmulatorState, changes: unknown): EmulatorSettings {
  Object.assign(state.settings, checkSettings(changes))
  return { ...state.settings }
}

/** Kaleyra's documented way to retire a user (`active: false`); false for an unknown user. */
export function deactivateUserOf (state: EmulatorState, userId: string): boolean {
  const user = state.users.get(userId)
  if (user !== undefined) user.active = false
  return user !== undefined
}

export function setTranscriptionOf (state: EmulatorState, sessionId: string, transcription: unknown): void {
  const session = state.sessions.get(sessionId)
  if (session === undefined) throw new Error(`unknown session ${sessionId}`)
  session.transcription = transcriptionSource(transcription)
  state.webhooks.send('on_transcription_available', { room_id: session.roomId, session_id: sessionId })
}

/** The recording of a session is processed: its link can be asked for, and Kaleyra says so by webhook. */
export function setRecordingReadyOf (state: EmulatorState, sessionId: string): void {
  const session = state.sessions.get(sessionId)
  if (session === undefined) throw new Error(`unknown session ${sessionId}`)
  // A room created with `recording: "none"` is never recorded.
  if (state.rooms.get(session.roomId)?.recording === 'none') throw new TypeError(`the room of session ${sessionId} is not recorded (recording: none)`)
  session.recordingReady = true
  state.webhooks.send('on_recording_available', { room_id: session.roomId, session_id: sessionId })
}

function sessionState (s: SessionRecord): Record<string, unknown> {
  const t = s.transcription
  const transcription = t === null ? null : { kind: t.kind, bytes: t.kind === 'json' ? t.body.length : t.bytes }
  return {
    sessionId: s.sessionId,
    roomId: s.roomId,
    startDate: s.startDate,
    endDate: s.endDate,
    transcription,
    recording: s.recordingReady === true
  }
}

export function snapshot (state: EmulatorState): Record<string, unknown> {
  const uploads: Record<string, number> = {}
  for (const u of state.uploads.values()) uploads[u.roomId] = (uploads[u.roomId] ?? 0) + 1
  return {
    users: [...state.users.values()].map(u => ({
      userId: u.userId,
      role: u.role,
      ...(u.active ? {} : { active: false })
    })),
    rooms: state.liveRooms().map(publicRoom),
    uploads,
    sessions: [...state.sessions.values()].map(sessionState),
    joins: state.joins.map(j => ({ ...j }))
  }
}

/** One room with what happened in it: its uploads, sessions and joins. */
export async function roomSnapshot (state: EmulatorState, roomId: string): Promise<Record<string, unknown>> {
  const room = state.rooms.get(roomId)
  if (room === undefined) throw new Error(`unknown room ${roomId}`)
  return {
    ...publicRoom(room),
    deleted: room.deleted,
    teleconsultationId: await state.teleconsultationOf(roomId),
    uploads: state.uploadsOf(roomId).length,
    sessions: [...state.sessions.values()].filter(s => s.roomId === roomId).map(sessionState),
    joins: state.joins.filter(j => j.roomId === roomId).map(j => ({ ...j }))
  }
}

/** Moves the emulator's clock forward (recording links expire on it); returns the offset now. */
export function advanceClockOf (state: EmulatorState, ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new TypeError('the clock moves forward by a non-negative integer of milliseconds')
  state.clockOffsetMs += ms
  return state.clockOffsetMs
}

/** Turns a TypeError from the shared helpers into a 422 for HTTP callers. */
function asValidation<T> (fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (err instanceof TypeError) throw validationError(err.message)
    throw err
  }
}

export function registerControlRoutes (
  app: FastifyInstance,
  state: EmulatorState,
  faults: FaultList,
  reset: () => void
): void {
  const roomOf = async (id: string): Promise<string> => {
    const roomId = await state.resolveRoomId(id)
    if (roomId === undefined) throw notFound(state.directory === null ? `room ${id} not found` : `no room ${id}, nor a teleconsultation with a room`)
    return roomId
  }

  app.get('/_emulator/state', async () => snapshot(state))

  app.get<{ Params: { roomId: string } }>('/_emulator/rooms/:roomId', async (request) => await roomSnapshot(state, await roomOf(request.params.roomId)))

  app.post('/_emulator/faults', async (request, reply: FastifyReply) => {
    faults.add(asValidation(() => faultRuleFromJson(request.body)))
    reply.code(201)
    return { faults: faults.size }
  })

  app.delete('/_emulator/faults', async () => {
    faults.clear()
    return { faults: 0 }
  })

  app.get('/_emulator/settings', async () => ({ ...state.settings }))

  app.patch('/_emulator/settings', async (request) => asValidation(() => configure(state, request.body)))

  app.post<{ Params: { userId: string } }>('/_emulator/users/:userId/deactivate', async (request) => {
    if (!deactivateUserOf(state, request.params.userId)) throw notFound(`user ${request.params.userId} not found`)
    return { id: request.params.userId, active: false }
  })

  app.post('/_emulator/rooms', async (request, reply) => {
    const body = objectBody(request.body, ['count', 'ageMs'])
    const count = body.count
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 10_000) {
      throw validationError('body.count must be an integer between 1 and 10000')
    }
    if (body.ageMs !== undefined && typeof body.ageMs !== 'number') throw validationError('body.ageMs must be a number')
    const ids = asValidation(() => state.addRooms(count, body.ageMs as number | undefined))
    reply.code(201)
    return { rooms: ids.length }
  })

  app.post<{ Params: { roomId: string } }>('/_emulator/rooms/:roomId/uploads', async (request, reply) => {
    const body = objectBody(request.body, ['count'])
    const count = body.count
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 10_000) {
      throw validationError('body.count must be an integer between 1 and 10000')
    }
    const keys = state.addUploads(await roomOf(request.params.roomId), count)
    reply.code(201)
    return { keys }
  })

  app.post<{ Params: { roomId: string } }>('/_emulator/rooms/:roomId/sessions', async (request, reply) => {
    const body = objectBody(request.body ?? {}, ['transcription', 'transcriptionBytes', 'ended'])
    if (body.transcriptionBytes !== undefined && typeof body.transcriptionBytes !== 'number') throw validationError('body.transcriptionBytes must be a number')
    if (body.ended !== undefined && typeof body.ended !== 'boolean') throw validationError('body.ended must be a boolean')
    const roomId = await roomOf(request.params.roomId)
    const sessionId = asValidation(() => addSessionTo(state, roomId, {
      transcription: body.transcription,
      transcriptionBytes: body.transcriptionBytes as number | undefined,
      ended: body.ended as boolean | undefined
    }))
    reply.code(201)
    return { session_id: sessionId }
  })

  app.put<{ Params: { sessionId: string } }>('/_emulator/sessions/:sessionId/transcription', async (request) => {
    if (!state.sessions.has(request.params.sessionId)) throw notFound(`session ${request.params.sessionId} not found`)
    if (request.body === undefined) throw validationError('body must be the transcription JSON, or { "bytes": n }')
    asValidation(() => setTranscriptionOf(state, request.params.sessionId, request.body))
    return { session_id: request.params.sessionId }
  })

  app.put('/_emulator/webhook', async (request) => {
    const body = objectBody(request.body, ['url'])
    if (body.url !== null && (typeof body.url !== 'string' || !/^https?:\/\/\S+$/.test(body.url))) throw validationError('body.url must be an http(s) URL or null')
    state.webhooks.url = body.url as string | null
    return { url: state.webhooks.url }
  })

  app.get('/_emulator/webhook', async () => ({ url: state.webhooks.url, deliveries: [...state.webhooks.deliveries] }))

  app.post<{ Params: { sessionId: string } }>('/_emulator/sessions/:sessionId/recording', async (request) => {
    if (!state.sessions.has(request.params.sessionId)) throw notFound(`session ${request.params.sessionId} not found`)
    asValidation(() => { setRecordingReadyOf(state, request.params.sessionId) })
    return { session_id: request.params.sessionId, recording: 'ready' }
  })

  app.post('/_emulator/clock', async (request) => {
    const body = objectBody(request.body, ['advanceMs'])
    return { offsetMs: asValidation(() => advanceClockOf(state, body.advanceMs as number)) }
  })

  app.post('/_emulator/reset', async () => {
    reset()
    return { reset: true }
  })
}
