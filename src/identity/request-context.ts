import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { AppConfig } from '../config/index.js'
import { commaList } from '../config/env.js'
import { TokenRefused } from '../lib/errors.js'
import type { RequestContext } from '../upstream/request-context.js'
import type { TokenVerifier, VerifiedCaller } from './token-verifier.js'
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

/**
 * Builds the function that reads a request's context: caller, headers to forward, id and logger.
 * Given a verified caller (AUTH_JWKS_URL, AUTH_JWT_SECRET), the platform's user headers of the
 * request are ignored: the caller is the token's, and so are the user headers forwarded upstream.
 */
export function createRequestContextReader (
  config: AppConfig
): (request: FastifyRequest, verified?: VerifiedCaller) => RequestContext {
  const { env, service } = config
  const userIdHeader = env.USERID_HEADER_KEY.toLowerCase()
  const groupsHeader = env.GROUPS_HEADER_KEY.toLowerCase()
  const clientTypeHeader = env.CLIENTTYPE_HEADER_KEY.toLowerCase()
  const backofficeHeader = env.BACKOFFICE_HEADER_KEY.toLowerCase()
  const userPropertiesHeader = env.USER_PROPERTIES_HEADER_KEY.toLowerCase()
  const additional = commaList(env.ADDITIONAL_HEADERS_TO_PROXY).map(h => h.toLowerCase())
  const forwarded = [...new Set(['cookie', 'authorization', clientTypeHeader, ...additional])]
  // What only the platform's gateway may set: with a verified caller, never taken from the request.
  const userHeaders = new Set([userIdHeader, groupsHeader, userPropertiesHeader, backofficeHeader])

  /** custom-plugin-lib's getMiaHeaders plus getHttpClient's extra and additional headers. */
  function readPlatformHeaders (
    request: FastifyRequest, callerId: string | undefined, groups: string[], clientType: string | null,
    verified: boolean
  ): Record<string, string> {
    const headers: Record<string, string> = {}
    const put = (name: string, value: string | undefined): void => { if (value !== undefined && value !== '') headers[name] = value }
    put(userIdHeader, callerId)
    if (!verified) put(userPropertiesHeader, userProperties(headerValue(request.headers[userPropertiesHeader])))
    put(groupsHeader, groups.join(','))
    put(clientTypeHeader, clientType ?? undefined)
    if (!verified) put(backofficeHeader, (headerValue(request.headers[backofficeHeader]) ?? '') !== '' ? '1' : undefined)
    for (const name of PROXIED_REQUEST_HEADERS) put(name, headerValue(request.headers[name]))
    put('x-request-id', request.id)
    for (const name of additional) {
      if (!(name in headers) && !(verified && userHeaders.has(name))) put(name, headerValue(request.headers[name]))
    }
    return headers
  }

  return function readRequestContext (request, verified) {
    const forwardHeaders: Record<string, string> = {}
    for (const name of forwarded) {
      if (verified !== undefined && userHeaders.has(name)) continue
      const value = headerValue(request.headers[name])
      if (value !== undefined) forwardHeaders[name] = value
    }
    if (forwardHeaders[clientTypeHeader] === undefined && env.DEFAULT_CLIENT_TYPE !== undefined) {
      forwardHeaders[clientTypeHeader] = env.DEFAULT_CLIENT_TYPE
    }
    const callerGroups = verified?.groups ?? parseGroups(request.headers[groupsHeader])
    const clientType = forwardHeaders[clientTypeHeader] ?? null
    const userIdSent = verified === undefined ? headerValue(request.headers[userIdHeader]) : verified.userId
    return {
      callerId: verified?.userId ?? extractUserId(request, service.userIdPathInRequest),
      callerGroups,
      clientType,
      forwardHeaders,
      platformHeaders: readPlatformHeaders(request, userIdSent, callerGroups, clientType, verified !== undefined),
      requestId: request.id,
      log: request.log
    }
  }
}

/**
 * Gives every route of the scope it is registered in `request.ctx`, built once, after validation
 * (userIdPathInRequest may read the body) and before the handler. fastify-plugin lets the
 * decoration and the hooks reach the route plugins registered beside it.
 *
 * With a token verifier, every request of the scope must first carry a verified bearer token:
 * it is checked as the request arrives (before its body is read), a missing or bad one is a 401.
 */
type RequestContextOptions = { config: AppConfig, verifier?: TokenVerifier }

export const requestContext = fp<RequestContextOptions>(async (fastify, { config, verifier }) => {
  const read = createRequestContextReader(config)
  fastify.decorateRequest('ctx', null as unknown as RequestContext)
  if (verifier === undefined) {
    fastify.addHook('preHandler', (request, _reply, done) => {
      request.ctx = read(request)
      done()
    })
    return
  }
  const callers = new WeakMap<FastifyRequest, VerifiedCaller>()
  fastify.addHook('onRequest', async (request, reply) => {
    try {
      callers.set(request, await verifier.verify(request.headers.authorization))
    } catch (err) {
      // RFC 6750: a refused bearer token is answered with the scheme to use.
      if (err instanceof TokenRefused) reply.header('www-authenticate', request.headers.authorization === undefined ? 'Bearer' : 'Bearer error="invalid_token"')
      throw err
    }
  })
  fastify.addHook('preHandler', (request, _reply, done) => {
    const caller = callers.get(request)
    // Never the request's own headers in this mode, whatever happened before.
    if (caller === undefined) { done(new TokenRefused('an Authorization: Bearer token is required')); return }
    request.ctx = read(request, caller)
    done()
  })
}, { name: 'request-context', fastify: '5.x' })
