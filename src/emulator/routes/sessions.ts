// /v2/sessions: runs of a room (added by the test controls), their transcriptions and recordings.
import type { FastifyInstance } from 'fastify'
import { paths, RECORDING_LINK_EXPIRY_QUERY } from '../../kaleyra/wire.js'
import { MAX_RECORDING_LINK_SECONDS, MIN_RECORDING_LINK_SECONDS } from '../../kaleyra/model.js'
import { notFound, pageOf, queryOf, readPage, validationError } from '../http.js'
import { DEFAULT_RECORDING_LINK_SECONDS } from '../recording.js'
import type { EmulatorState, SessionRecord } from '../state.js'
import { transcriptionPayload } from '../transcription.js'

/** How long a transcription link is said to be valid (the emulator does not expire them). */
const LINK_TTL_MS = 3_600_000

/** The link's validity asked for: an integer from 30 to 3600 (Kaleyra's documented range), or the default. */
function linkSeconds (value: string | undefined): number {
  if (value === undefined) return DEFAULT_RECORDING_LINK_SECONDS
  const seconds = Number(value)
  if (!/^\d+$/.test(value) || seconds < MIN_RECORDING_LINK_SECONDS || seconds > MAX_RECORDING_LINK_SECONDS) {
    throw validationError(`${RECORDING_LINK_EXPIRY_QUERY} must be an integer between ${MIN_RECORDING_LINK_SECONDS} and ${MAX_RECORDING_LINK_SECONDS}`)
  }
  return seconds
}

function sessionBody (s: SessionRecord): Record<string, unknown> {
  return { session_id: s.sessionId, room_id: s.roomId, start_date: s.startDate, end_date: s.endDate }
}

export function registerSessionRoutes (app: FastifyInstance, state: EmulatorState): void {
  app.get(paths.sessions(), async (request) => {
    const query = queryOf(request.url)
    const page = readPage(query)
    const all = [...state.sessions.values()].filter(s => query.room_id === undefined || s.roomId === query.room_id)
    const { items, ...rest } = pageOf(all, page)
    return { sessions: items.map(sessionBody), ...rest }
  })

  app.get<{ Params: { id: string } }>(`${paths.sessions()}/:id`, async (request) => {
    const session = state.sessions.get(request.params.id)
    if (session === undefined) throw notFound(`session ${request.params.id} not found`)
    return sessionBody(session)
  })

  app.get<{ Params: { id: string } }>(`${paths.sessions()}/:id/transcription`, async (request, reply) => {
    const session = state.sessions.get(request.params.id)
    const source = session?.transcription
    if (session === undefined || source == null) throw notFound('transcription not available')
    reply.type('application/json')
    if (state.settings.transcriptionDelivery === 'link') {
      // As recordings and uploads are given: a temporary link on another origin.
      return { url: state.newFileLink(session.sessionId), expires_at: new Date(Date.now() + LINK_TTL_MS).toISOString() }
    }
    if (source.kind === 'json') return source.body
    const { length, stream } = transcriptionPayload(session, source)
    reply.header('content-length', String(length))
    return stream
  })

  // A link (never the file) to the session's recording, valid for the seconds asked for; the file
  // origin serves it until then. Unknown session, a room that does not record, or a recording not
  // processed yet: 404.
  app.get<{ Params: { id: string } }>(`${paths.sessions()}/:id/recording`, async (request) => {
    const seconds = linkSeconds(queryOf(request.url)[RECORDING_LINK_EXPIRY_QUERY])
    const session = state.sessions.get(request.params.id)
    if (session === undefined) throw notFound(`session ${request.params.id} not found`)
    if (state.rooms.get(session.roomId)?.recording === 'none' || session.recordingReady !== true) throw notFound('recording not available')
    const expiresAt = state.now() + seconds * 1000
    return { url: state.newFileLink(session.sessionId, 'recording', expiresAt), expires_at: new Date(expiresAt).toISOString() }
  })
}
