import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { CALLER_ID_SECURITY } from '../lib/schemas.js'
import { IdParamsSchema } from '../teleconsultations/schemas.js'
import { RecordingLinkSchema, RecordingParamsSchema, recordingErrors, SessionsSchema, sessionsErrors } from './schemas.js'
import type { RecordingService } from './service.js'

const tags = ['Recordings']

/** Always served: they only answer when called (no background work, no call a 2.1 route makes). */
type RecordingRoutesOptions = { recordings: RecordingService }

export const recordingRoutes: FastifyPluginAsyncTypebox<RecordingRoutesOptions> = async (fastify, { recordings }) => {
  fastify.get('/recording/:roomId/:sessionId', {
    schema: {
      tags,
      summary: 'Get a temporary download link to the recording of a call session',
      security: CALLER_ID_SECURITY,
      description: 'Needs DEFAULT_RECORDING_TYPE manual or automatic. Participants only; the session must belong to the teleconsultation\'s Kaleyra room. Answers Kaleyra\'s temporary link (valid RECORDING_LINK_TTL_S seconds), never the file; the answer must not be cached. With KALEYRA_WEBHOOKS=true, 404 until Kaleyra said the recording is available (Kaleyra is not asked before).',
      params: RecordingParamsSchema,
      response: {
        200: RecordingLinkSchema,
        400: recordingErrors.badRequest,
        401: recordingErrors.unauthorized,
        404: recordingErrors.notFound,
        409: recordingErrors.conflict,
        502: recordingErrors[502],
        503: recordingErrors[503],
        504: recordingErrors[504]
      }
    }
  }, async (request, reply) => {
    const { roomId, sessionId } = request.params
    const link = await recordings.link(roomId, sessionId, request.ctx)
    return reply.header('cache-control', 'no-store').send(link)
  })

  fastify.get('/teleconsultation/:id/sessions', {
    schema: {
      tags,
      summary: 'List the sessions of a teleconsultation\'s call',
      security: CALLER_ID_SECURITY,
      description: 'Participants only. The sessions (runs of the call) of the teleconsultation\'s current Kaleyra room, with their start and end, and whether their recording and transcription are available (known from Kaleyra\'s webhooks, KALEYRA_WEBHOOKS=true; null otherwise).',
      params: IdParamsSchema,
      response: {
        200: SessionsSchema,
        400: sessionsErrors.badRequest,
        401: sessionsErrors.unauthorized,
        404: sessionsErrors.notFound,
        502: sessionsErrors[502],
        503: sessionsErrors[503],
        504: sessionsErrors[504]
      }
    }
  }, async (request) => {
    return { sessions: await recordings.sessions(request.params.id, request.ctx) }
  })
}
