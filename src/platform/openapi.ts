import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { TSchema } from '../lib/typebox.js'
import type { FastifyInstance, RouteOptions } from 'fastify'
import type { UserIdPathStep } from '../config/service-config.js'
import { readPackage } from '../lib/package-info.js'
import { errorResponse } from '../lib/schemas.js'

export interface OpenApiOptions {
  userIdPathInRequest: UserIdPathStep[]
  userIdHeader: string
  groupsHeader: string
  /** AUTH_JWKS_URL or AUTH_JWT_SECRET: callers are named by a bearer token, not by headers. */
  bearer?: boolean
}

/** Verified-identity mode: every route acting for a caller. */
export const BEARER_SECURITY = [{ bearer: [] }]

const TOKEN_REFUSED_EXAMPLES = ['Unauthorized: an Authorization: Bearer token is required', 'Unauthorized: the token has expired']
const TOKEN_REFUSED = 'The bearer token is missing or does not verify (AUTH_JWKS_URL, AUTH_JWT_SECRET)'

/**
 * An onRoute hook for the routes of verified-identity mode: they need a bearer token, and may
 * answer 401 for it, besides whatever 401 they had.
 */
export function documentBearer (route: RouteOptions): void {
  const schema = route.schema
  if (schema === undefined) return
  const response = { ...(schema.response as Record<string, TSchema> | undefined) }
  const own = response[401]
  const examples = [
    ...((own?.examples as Array<{ error: string }> | undefined) ?? []).map(e => e.error),
    ...TOKEN_REFUSED_EXAMPLES
  ]
  response[401] = errorResponse(
    own?.description !== undefined ? `${TOKEN_REFUSED}; or: ${String(own.description)}` : TOKEN_REFUSED,
    ...examples
  )
  route.schema = { ...schema, security: BEARER_SECURITY, response }
}

/** Where the caller's id travels: the header or query parameter `userIdPathInRequest` starts from. */
function callerScheme (opts: OpenApiOptions) {
  const [root, property] = opts.userIdPathInRequest
  const path = opts.userIdPathInRequest.map(step => step.extract).join('.')
  const place = root.extract === 'headers' ? 'header' : root.extract === 'query' ? 'query' : undefined
  if (place === undefined || property === undefined) {
    return { type: 'apiKey' as const, in: 'header', name: opts.userIdHeader, description: `The caller, read from the request at ${path} (userIdPathInRequest).` }
  }
  const inside = opts.userIdPathInRequest.length > 2 ? ` (the id is at ${path})` : ''
  return { type: 'apiKey' as const, in: place, name: String(property.extract), description: `The caller's user id${inside}, set by the platform gateway from the logged-in user.` }
}

/** OpenAPI 3 at /documentation/json and the UI at /documentation, never moved by SERVICE_PREFIX. */
export async function registerOpenApi (app: FastifyInstance, opts: OpenApiOptions): Promise<void> {
  const pkg = readPackage()
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Teleconsultation Service Backend', description: pkg.description, version: pkg.version },
      tags: [
        { name: 'Teleconsultations', description: 'Schedule, update, join and delete teleconsultations' },
        { name: 'Credentials', description: 'Kaleyra SDK access tokens for mobile apps' },
        { name: 'Settings', description: 'Company virtual backgrounds' },
        { name: 'Transcriptions', description: 'Transcriptions of recorded calls' },
        { name: 'Recordings', description: 'Sessions of a call and temporary links to their recordings' }
      ],
      components: {
        securitySchemes: opts.bearer === true
          ? { bearer: { type: 'http' as const, scheme: 'bearer', bearerFormat: 'JWT', description: 'A token of the identity provider (AUTH_JWKS_URL) or signed with AUTH_JWT_SECRET; the caller and their groups are its claims. User headers are ignored.' } }
          : {
              caller: callerScheme(opts),
              callerGroups: { type: 'apiKey' as const, in: 'header', name: opts.groupsHeader, description: 'The caller\'s groups, comma-separated, set by the platform gateway (GROUPS_HEADER_KEY). With AUTH_SERVICE, the identity service gives them instead.' }
            }
      }
    },
    hideUntagged: true
  })
  await app.register(swaggerUi, { routePrefix: '/documentation' })
}
