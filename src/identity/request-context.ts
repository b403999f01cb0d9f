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

// What custom-plugin-lib forwarded besides the platform headers, from the incoming request.
const PROXIED_REQUEST_HEADERS = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']

function headerValue (value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value
}

/** The caller's user properties re-serialised, as custom-plugin-lib did; absent when not JSON. */
function userProperties (value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined
  try {
    const parsed: unknown = JSON.parse(value)
    return parsed === null ? undefined : JSON.stringify(parsed)
  } catch {
    return undefined
  }
}

/** Builds the function that reads a request's context: caller, headers to forward, id and logger. */
export function createRequestContextReader (config: AppConfig): (request: FastifyRequest) => RequestContext {
  const { env, service } = config
  const userIdHeader = env.USERID_HEADER_KEY.toLowerCase()
  const groupsHeader = env.GROUPS_HEADER_KEY.toLowerCase()
  const clientTypeHeader = env.CLIENTTYPE_HEADER_KEY.toLowerCase()
  const backofficeHeader = env.BACKOFFICE_HEADER_KEY.toLowerCase()
  const userPropertiesHeader = env.USER_PROPERTIES_HEADER_KEY.toLowerCase()
  const additional = commaList(env.ADDITIONAL_HEADERS_TO_PROXY).map(h => h.toLowerCase())
  const forwarded = [...new Set(['cookie', 'authorization', clientTypeHeader, ...additional])]

  /** custom-plugin-lib's getMiaHeaders plus getHttpClient's extra and additional headers. */
  function readPlatformHeaders (request: FastifyRequest, groups: string[], clientType: string | null): Record<string, string> {
    const headers: Record<string, string> = {}
    const put = (name: string, value: string | undefined): void => { if (value !== undefined && value !== '') headers[name] = value }
    put(userIdHeader, headerValue(request.headers[userIdHeader]))
    put(userPropertiesHeader, userProperties(headerValue(request.headers[userPropertiesHeader])))
    put(groupsHeader, groups.join(','))
    put(clientTypeHeader, clientType ?? undefined)
    put(backofficeHeader, (headerValue(request.headers[backofficeHeader]) ?? '') !== '' ? '1' : undefined)
    for (const name of PROXIED_REQUEST_HEADERS) put(name, headerValue(request.headers[name]))
    put('x-request-id', request.id)
    for (const name of additional) if (!(name in headers)) put(name, headerValue(request.headers[name]))
    return headers
  }

  return function readRequestContext (request) {
    const forwardHeaders: Record<string, string> = {}
    for (const name of forwarded) {
      const value = headerValue(request.headers[name])
      if (value !== undefined) forwardHeaders[name] = value
    }
    if (forwardHeaders[clientTypeHeader] === undefined && env.DEFAULT_CLIENT_TYPE !== undefined) {
      forwardHeaders[clientTypeHeader] = env.DEFAULT_CLIENT_TYPE
    }
    const callerGroups = parseGroups(request.headers[groupsHeader])
    const clientType = forwardHeaders[clientTypeHeader] ?? null
    return {
      callerId: extractUserId(request, service.userIdPathInRequest),
      callerGroups,
      clientType,
      forwardHeaders,
      platformHeaders: readPlatformHeaders(request, callerGroups, clientType),
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
