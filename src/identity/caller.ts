import type { FastifyRequest } from 'fastify'
import type { AppConfig } from '../config/index.js'
import { commaList } from '../config/env.js'
import type { CallerContext } from './types.js'
import { extractUserId, parseGroups } from './user-id-path.js'

/** Builds the function routes use to describe the caller to the domain. */
export function createCallerContextReader (config: AppConfig): (request: FastifyRequest) => CallerContext {
  const { env, service } = config
  const groupsHeader = env.GROUPS_HEADER_KEY.toLowerCase()
  const clientTypeHeader = env.CLIENTTYPE_HEADER_KEY.toLowerCase()
  const forwarded = [...new Set(['cookie', 'authorization', clientTypeHeader, ...commaList(env.ADDITIONAL_HEADERS_TO_PROXY).map(h => h.toLowerCase())])]

  return function callerContext (request) {
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
      forwardHeaders
    }
  }
}
