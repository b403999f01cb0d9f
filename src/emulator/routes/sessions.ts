// /v2/sessions: runs of a room (added by the test controls) and their transcriptions.
import type { FastifyInstance } from 'fastify'
import { paths } from '../../kaleyra/wire.js'
import { notFound, pageOf, queryOf, readPage } from '../http.js'
import type { EmulatorState, SessionRecord } from '../state.js'
import { transcriptionPayload } from '../transcription.js'

/** How long a transcription link is said to be valid (the emulator does not expire them). */
const LINK_TTL_MS = 3_600_000

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
}
