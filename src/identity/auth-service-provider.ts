import { createHash } from 'node:crypto'
import type { Dispatcher } from 'undici'
import { allOrFirstError } from '../lib/concurrency.js'
import { BadParticipants, UnauthorizedError } from '../lib/errors.js'
import { createTtlCache } from '../lib/ttl-cache.js'
import { HttpUpstream, type UpstreamObserver } from '../upstream/http.js'
import { UpstreamError } from '../upstream/errors.js'
import type { RequestContext } from '../upstream/request-context.js'
import { parseIdentityUser, readCustomIdTargets, type IdentityUser } from './identity-user.js'
import type { IdentityProvider, ParticipantIdentity } from './types.js'

/** How long a user read from the identity service is reused by default. */
export const USER_CACHE_TTL_MS = 5_000

export interface AuthServiceProviderOptions {
  /** AUTH_SERVICE: a host (`auth0-client`, called over http) or a URL with its scheme. */
  authService: string
  timeoutMs: number
  /** CUSTOM_ID_USERS_API_ENDPOINT: ids are first resolved there when set. */
  customIdEndpoint?: string
  /** customUserId of the service configuration: the query field and the field read back. */
  customUserId: { source: string, target: string }
  /** Tests inject an undici dispatcher (MockAgent); by default a keep-alive pool per origin. */
  dispatcher?: Dispatcher
  observer?: UpstreamObserver
  retryDelayMs?: number
  /** How long a user read from the identity service is reused (default USER_CACHE_TTL_MS). */
  cacheTtlMs?: number
  /** The clock that cache lifetime is measured with (default Date.now). */
  now?: () => number
}

type Lookup = { found: true, user: IdentityUser } | { found: false, reason: string }

export function authServiceBaseUrl (authService: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(authService) ? authService : `http://${authService}`
}

/**
 * Identity-provider mode (AUTH_SERVICE set): who a participant or the caller is comes from the
 * identity service (Mia-Platform auth0-client, `GET /users/<id>`), asked with the caller's own
 * credentials (the forwarded headers). Answers are shared by concurrent requests and reused for a
 * few seconds, keyed by id and forwarded headers so that one caller never sees another's answer.
 */
export function createAuthServiceIdentityProvider (opts: AuthServiceProviderOptions): IdentityProvider {
  const common = { target: 'identity' as const, timeoutMs: opts.timeoutMs, dispatcher: opts.dispatcher, observer: opts.observer, retryDelayMs: opts.retryDelayMs }
  const users = new HttpUpstream({ ...common, baseUrl: authServiceBaseUrl(opts.authService) })
  const customEndpoint = opts.customIdEndpoint === undefined ? undefined : new URL(opts.customIdEndpoint)
  // The endpoint's path is kept as written: CRUD Service lists need their trailing slash.
  const customIds =
    customEndpoint === undefined ? undefined : new HttpUpstream({ ...common, baseUrl: customEndpoint.origin })
  // Unknown users are not kept: the next request asks again.
  const cache = createTtlCache<Lookup>({
    ttlMs: opts.cacheTtlMs ?? USER_CACHE_TTL_MS,
    maxEntries: 1_000,
    keep: result => result.found,
    now: opts.now
  })

  function refusedCredentials (status: number): boolean {
    return status === 401 || status === 403
  }

  async function resolveCustomId (id: string, headers: Record<string, string>): Promise<Lookup | string> {
    if (customIds === undefined || customEndpoint === undefined) return id
    const operation = 'resolveCustomId'
    const res = await customIds.requestJson({
      operation, method: 'GET', path: customEndpoint.pathname + customEndpoint.search, query: { [opts.customUserId.source]: id }, headers
    })
    if (refusedCredentials(res.statusCode)) throw new UnauthorizedError()
    if (res.statusCode === 404) return { found: false, reason: 'is unknown to CUSTOM_ID_USERS_API_ENDPOINT' }
    if (res.statusCode !== 200) throw new UpstreamError({ target: 'identity', operation, failure: 'status', upstreamStatus: res.statusCode })
    const targets = readCustomIdTargets(res.data, opts.customUserId.target)
    if (targets === null) throw new UpstreamError({ target: 'identity', operation, failure: 'format', upstreamStatus: res.statusCode })
    if (targets.length === 0) return { found: false, reason: `is unknown to CUSTOM_ID_USERS_API_ENDPOINT (no ${opts.customUserId.target})` }
    if (targets.length > 1) return { found: false, reason: 'matches several users on CUSTOM_ID_USERS_API_ENDPOINT' }
    return targets[0]
  }

  async function fetchUser (id: string, headers: Record<string, string>): Promise<Lookup> {
    const resolved = await resolveCustomId(id, headers)
    if (typeof resolved !== 'string') return resolved
    const operation = 'getUser'
    const res = await users.requestJson({ operation, method: 'GET', path: `/users/${encodeURIComponent(resolved)}`, headers })
    if (refusedCredentials(res.statusCode)) throw new UnauthorizedError()
    if (res.statusCode === 404 || res.statusCode === 400) return { found: false, reason: 'is unknown to the identity service' }
    if (res.statusCode !== 200) throw new UpstreamError({ target: 'identity', operation, failure: 'status', upstreamStatus: res.statusCode })
    const user = parseIdentityUser(res.data)
    if (user === null) throw new UpstreamError({ target: 'identity', operation, failure: 'format', upstreamStatus: res.statusCode })
    return { found: true, user }
  }

  async function lookup (id: string, ctx: RequestContext): Promise<Lookup> {
    // The answer depends on the credentials (forwardHeaders), not on the request id: that is the key.
    const key = createHash('sha256').update(JSON.stringify([id, Object.entries(ctx.forwardHeaders).sort()])).digest('base64')
    return await cache.get(key, async () => await fetchUser(id, { ...ctx.platformHeaders, ...ctx.forwardHeaders }))
  }

  return {
    mode: 'provider',
    acceptsIdList: true,

    async identify (participants, ctx) {
      const lookups = await allOrFirstError(participants, async p => await lookup(p.userId, ctx))
      return participants.map((p, index): ParticipantIdentity => {
        const result = lookups[index]
        if (!result.found) throw new BadParticipants(`participant ${p.userId} ${result.reason}`)
        // The identity service is authoritative; what it does not know is taken from the request.
        const groups = result.user.groups.length > 0 ? result.user.groups : p.groups ?? []
        const fullName = result.user.fullName ?? p.fullName
        return { userId: p.userId, groups, fullName, language: p.language }
      })
    },

    async callerGroups (ctx) {
      if (ctx.callerId === null) throw new UnauthorizedError()
      const result = await lookup(ctx.callerId, ctx)
      if (!result.found) throw new UnauthorizedError()
      return result.user.groups
    },

    async close () {
      cache.clear()
      await Promise.allSettled([users.close(), customIds?.close()])
    }
  }
}
