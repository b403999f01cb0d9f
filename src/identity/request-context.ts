import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { AppConfig } from '../config/index.js'
import { commaList } from '../config/env.js'
import type { RequestContext } from '../upstream/request-context.js'
import { extractUserId, parseGroups } from './user-id-path.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The request context of an API route, set before its handler runs. */
    ctx: RequestContext
  }
}

/** Builds the function that reads a request's context: caller, headers to forward, id and logger. */
export function createRequestContextReader (config: AppConfig): (request: FastifyRequest) => RequestContext {
  const { env, service } = config
  const groupsHeader = env.GROUPS_HEADER_KEY.toLowerCase()
  const clientTypeHeader = env.CLIENTTYPE_HEADER_KEY.toLowerCase()
  const forwarded = [...new Set(['cookie', 'authorization', clientTypeHeader, ...commaList(env.ADDITIONAL_HEADERS_TO_PROXY).map(h => h.toLowerCase())])]

  return function readRequestContext (request) {
    const forwardHeaders: Record<string, string> = {}
    for (const name of forwarded) {
      const value = request.headers[name]
      if (typeof value === 'string') forwardHeaders[name] = value
      else if (Array.isArray(value)) forwardHeaders[name] = value.join(', ')
    }
    if (forwardHeaders[clientTypeHeader] === undefined && env.DEFAULT_CLIENT_TYPE !== undefined) {
      forwardHeaders[clientTypeHeader] = env.DEFAULT_CLIENT_TYPE
    }
    return {
      callerId: extractUserId(request, service.userIdPathInRequest),
      callerGroups: parseGroups(request.headers[groupsHeader]),
      clientType: forwardHeaders[clientTypeHeader] ?? null,
      forwardHeaders,
      requestId: request.id,
      log: request.log
    }
  }
}

/**
 * Gives every route of the scope it is registered in `request.ctx`, built once, after validation
 * (userIdPathInRequest may read the body) and before the handler. fastify-plugin lets the
 * decoration and the hook reach the route plugins registered beside it.
 */
export const requestContext = fp<{ config: AppConfig }>(async (fastify, { config }) => {
  const read = createRequestContextReader(config)
  fastify.decorateRequest('ctx', null as unknown as RequestContext)
  fastify.addHook('preHandler', (request, _reply, done) => {
    request.ctx = read(request)
    done()
  })
}, { name: 'request-context', fastify: '5.x' })
