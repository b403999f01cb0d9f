import formBody from '@fastify/formbody'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { CALLER_SECURITY, FORM_OR_JSON, formOrJsonUnsupported } from '../lib/schemas.js'
import { refusePlainText } from '../lib/content-types.js'
import type { Authorization } from '../identity/authorization.js'
import { credentialsBodySchema, CredentialsSchema, DEFAULT_EXPIRES_IN_SECONDS, errors } from './schemas.js'
import type { CredentialsService } from './service.js'

export const credentialsRoutes: FastifyPluginAsyncTypebox<{
  credentials: CredentialsService
  authorization: Authorization
  /** CREDENTIALS_MAX_EXPIRES_IN: the longest expiresIn accepted. */
  maxExpiresIn: number
}> = async (fastify, { credentials, authorization, maxExpiresIn }) => {
  refusePlainText(fastify)
  const bodySchema = credentialsBodySchema(maxExpiresIn)
  const defaultExpiresIn = Math.min(DEFAULT_EXPIRES_IN_SECONDS, maxExpiresIn)
  // Like custom-plugin-lib, a flat form body is accepted too (this plugin only: nested bodies stay JSON).
  await fastify.register(formBody)
  fastify.post('/credentials', {
    config: { refusal: { label: 'POST /credentials' } },
    // Mobile SDK clients may post without any body: it means "the default expiry".
    preValidation: async (request) => { request.body ??= {} },
    preHandler: async (request) => { await authorization.requireCredentialsUser(request.ctx) },
    schema: {
      tags: ['Credentials'],
      summary: 'Get a Kaleyra SDK access token for the caller',
      security: CALLER_SECURITY,
      description: 'For the Kaleyra Video mobile SDKs. The caller comes from the request headers; their Kaleyra user (and user-id map row) is created on first use, with the role given by their groups.',
      consumes: FORM_OR_JSON,
      body: bodySchema,
      response: {
        201: CredentialsSchema,
        400: errors.badRequest,
        401: errors.unauthorized,
        403: errors.forbidden,
        413: errors[413],
        415: formOrJsonUnsupported,
        502: errors[502],
        503: errors[503],
        504: errors[504]
      }
    }
  }, async (request, reply) => {
    const access = await credentials.issue(request.ctx, request.body.expiresIn ?? defaultExpiresIn)
    return reply.code(201).send(access)
  })
}
