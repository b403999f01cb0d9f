import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { TemporarilyUnavailableError } from '../lib/errors.js'
import { CALLER_ID_SECURITY } from '../lib/schemas.js'
import { errors, TranscriptionParamsSchema, TranscriptionSchema } from './schemas.js'
import type { TranscriptionService } from './service.js'

type TranscriptionRoutesOptions = { transcriptions: TranscriptionService }

export const transcriptionRoutes: FastifyPluginAsyncTypebox<TranscriptionRoutesOptions> = async (
  fastify,
  { transcriptions }
) => {
  fastify.get('/transcription/:roomId/:sessionId', {
    schema: {
      tags: ['Transcriptions'],
      summary: 'Get the transcription of a call session',
      security: CALLER_ID_SECURITY,
      description: 'Needs DEFAULT_RECORDING_TYPE manual or automatic and OFFLINE_TRANSCRIPTION true (rooms are then recorded with offline transcription). Participants only; the session must belong to the teleconsultation\'s Kaleyra room. Transcriptions larger than TRANSCRIPTION_MAX_FILE_SIZE are refused with 413.',
      params: TranscriptionParamsSchema,
      response: {
        200: TranscriptionSchema,
        400: errors.badRequest,
        401: errors.unauthorized,
        404: errors.notFound,
        409: errors.conflict,
        413: errors.tooLarge,
        502: errors[502],
        503: errors[503],
        504: errors[504]
      }
    }
  }, async (request, reply) => {
    const { roomId, sessionId } = request.params
    let transcription
    try {
      transcription = await transcriptions.open(roomId, sessionId, request.ctx)
    } catch (err) {
      if (err instanceof TemporarilyUnavailableError) reply.header('retry-after', '10')
      throw err
    }
    return reply.type('application/json; charset=utf-8').header('content-length', transcription.length).send(transcription.body)
  })
}
