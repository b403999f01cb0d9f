import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Authorization } from '../identity/authorization.js'
import { CALLER_ID_SECURITY, CALLER_SECURITY } from '../lib/schemas.js'
import { refusePlainText } from '../lib/content-types.js'
import {
  CreateBodySchema, CreatedSchema, errors, IdempotencyHeadersSchema, IdParamsSchema, NoContent, ParticipantDataSchema,
  UpdateBodySchema, UploadsDeletedSchema,
  ViewQuerySchema, ViewSchema
} from './schemas.js'
import type { Idempotency } from './idempotency.js'
import type { TeleconsultationService } from './service.js'
import type { IdempotentAnswer } from '../store/types.js'

const tags = ['Teleconsultations']

export const teleconsultationRoutes: FastifyPluginAsyncTypebox<{
  teleconsultations: TeleconsultationService
  authorization: Authorization
  /** IDEMPOTENCY_KEYS=true only: creations honour the Idempotency-Key header. */
  idempotency?: Idempotency
}> = async (fastify, { teleconsultations, authorization, idempotency }) => {
  refusePlainText(fastify)
  // WRITE_GROUPS / WRITE_BACKOFFICE: checked after validation and before any work.
  const writer = async (request: FastifyRequest): Promise<void> => {
    await authorization.requireWriter(request.ctx, request.headers)
  }
  // The header is documented and validated only when it is honoured: otherwise it is ignored, as by 2.1.
  const idempotencyHeaders = idempotency !== undefined ? { headers: IdempotencyHeadersSchema } : {}

  /** Runs a creation, once per Idempotency-Key when the request has one; repeats get the first answer. */
  async function once (
    request: FastifyRequest, reply: FastifyReply, operation: string, target: string | undefined,
    work: () => Promise<IdempotentAnswer>
  ): Promise<FastifyReply> {
    const clientKey = request.headers['idempotency-key']
    const answer = idempotency === undefined || typeof clientKey !== 'string'
      ? await work()
      : await idempotency.run(
        { clientKey, callerId: request.ctx.callerId, operation, target, body: request.body },
        request.ctx,
        work
      )
    if ('replayed' in answer && answer.replayed) reply.header('idempotent-replayed', 'true')
    return reply.code(answer.statusCode).send(answer.body)
  }

  fastify.post('/teleconsultation', {
    config: { refusal: { label: 'POST /teleconsultation' } },
    preHandler: writer,
    schema: {
      tags,
      summary: 'Create a teleconsultation',
      description: 'Stores the teleconsultation and, when every participant is known, creates its Kaleyra room.',
      body: CreateBodySchema,
      ...idempotencyHeaders,
      response: {
        201: CreatedSchema,
        400: errors.createBadRequest,
        401: errors.credentialsRefused,
        403: errors.forbidden,
        409: errors.idempotencyInProgress,
        413: errors[413],
        415: errors[415],
        422: errors.idempotencyKeyReused,
        502: errors[502],
        503: errors[503],
        504: errors[504]
      }
    }
  }, async (request, reply) => {
    return await once(request, reply, 'POST /teleconsultation', undefined, async () => {
      const roomId = await teleconsultations.create(request.body, request.ctx)
      return { statusCode: 201, body: { roomId } }
    })
  })

  fastify.patch('/teleconsultation/:id', {
    // 2.1 leaves the id out of this one message only.
    config: { refusal: { label: 'PATCH /teleconsultation/:id', NoPlusUser: 'PATCH /teleconsultation' } },
    preHandler: writer,
    schema: {
      tags,
      summary: 'Update a teleconsultation',
      description: 'Changes participants and/or dates. A change affecting an existing Kaleyra room replaces the room (new links). Refused once the teleconsultation is frozen.',
      params: IdParamsSchema,
      body: UpdateBodySchema,
      response: {
        204: NoContent,
        400: errors.updateBadRequest,
        401: errors.credentialsRefused,
        403: errors.forbidden,
        404: errors.notFound,
        409: errors.updateConflict,
        413: errors[413],
        415: errors[415],
        502: errors[502],
        503: errors[503],
        504: errors[504]
      }
    }
  }, async (request, reply) => {
    await teleconsultations.update(request.params.id, request.body, request.ctx)
    return reply.code(204).send()
  })

  fastify.post('/teleconsultation/:id/participants/data', {
    config: { refusal: { label: 'POST /teleconsultation/:id/participants/data' } },
    preHandler: writer,
    schema: {
      tags,
      summary: 'Add one participant (1.x API)',
      description: 'Deprecated since 2.0: send the whole participants object with PATCH instead. Completing the list creates the Kaleyra room.',
      deprecated: true,
      params: IdParamsSchema,
      body: ParticipantDataSchema,
      ...idempotencyHeaders,
      response: {
        201: NoContent,
        400: errors.participantBadRequest,
        401: errors.credentialsRefused,
        403: errors.forbidden,
        404: errors.notFound,
        409: errors.participantConflict,
        413: errors[413],
        415: errors[415],
        422: errors.idempotencyKeyReused,
        502: errors[502],
        503: errors[503],
        504: errors[504]
      }
    }
  }, async (request, reply) => {
    return await once(request, reply, 'POST /teleconsultation/:id/participants/data', request.params.id, async () => {
      await teleconsultations.addParticipant(request.params.id, request.body, request.ctx)
      return { statusCode: 201 }
    })
  })

  fastify.get('/teleconsultation/:id', {
    schema: {
      tags,
      summary: 'Get the caller\'s access to a teleconsultation',
      security: CALLER_SECURITY,
      description: 'Answers the caller\'s personal link once the room exists and the teleconsultation is frozen (null before: poll), the other participants and the Kaleyra room details.',
      params: IdParamsSchema,
      querystring: ViewQuerySchema,
      response: {
        200: ViewSchema,
        400: errors.viewBadRequest,
        401: errors.unauthorized,
        404: errors.notFound,
        502: errors[502],
        504: errors[504]
      }
    }
  }, async (request) => {
    return await teleconsultations.view(request.params.id, request.ctx, request.query)
  })

  fastify.delete('/teleconsultation/:id', {
    config: { refusal: { label: 'DELETE /teleconsultation/:id' } },
    preHandler: writer,
    schema: {
      tags,
      summary: 'Delete a teleconsultation',
      description: 'Marks the record as being deleted (it then reads as missing), deletes its Kaleyra rooms, then the record. Safe to retry; an interrupted deletion is also completed in the background.',
      params: IdParamsSchema,
      response: {
        204: NoContent,
        400: errors.badId,
        403: errors.forbidden,
        404: errors.notFound,
        409: errors.deleteConflict,
        502: errors[502],
        503: errors[503],
        504: errors[504]
      }
    }
  }, async (request, reply) => {
    await teleconsultations.remove(request.params.id, request.ctx)
    return reply.code(204).send()
  })

  fastify.delete('/teleconsultation/:id/uploads', {
    preHandler: writer,
    schema: {
      tags,
      summary: 'Delete the files shared during the call',
      security: CALLER_ID_SECURITY,
      description: 'With TELECONSULTATION_DELETE_UPLOADS=true, deletes every file uploaded in the Kaleyra room (participants only); a partial failure still answers 200 with deleted < total. Disabled, it does nothing and answers 204.',
      params: IdParamsSchema,
      response: {
        200: UploadsDeletedSchema,
        204: NoContent,
        400: errors.badId,
        401: errors.unauthorized,
        403: errors.forbidden,
        404: errors.notFound,
        502: errors[502],
        503: errors[503],
        504: errors[504]
      }
    }
  }, async (request, reply) => {
    const result = await teleconsultations.deleteUploads(request.params.id, request.ctx)
    if (result === null) return reply.code(204).send()
    return result
  })
}
