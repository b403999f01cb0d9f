import type { JWTPayload, JWTVerifyGetKey, JWTVerifyOptions } from 'jose'
import { commaList, type AuthenticationMode, type Env } from '../config/env.js'
import { TokenRefused } from '../lib/errors.js'
import { UpstreamError } from '../upstream/errors.js'
import { HttpUpstream, type UpstreamObserver } from '../upstream/http.js'

/** The caller as a verified token names them. */
export interface VerifiedCaller {
  userId: string
  groups: string[]
}

/**
 * Verified identity (AUTH_JWKS_URL or AUTH_JWT_SECRET): the caller comes only from an
 * `Authorization: Bearer` token whose signature, algorithm, exp/nbf (with AUTH_CLOCK_TOLERANCE_S),
 * issuer and audience check out. A missing or bad token is a TokenRefused (401); a key set that
 * cannot be fetched is an UpstreamError of the identity target (502/504).
 */
export interface TokenVerifier {
  verify: (authorization: string | string[] | undefined) => Promise<VerifiedCaller>
  close: () => Promise<void>
}

export interface TokenVerifierOptions {
  env: Env
  mode: AuthenticationMode
  /** Deadline of a key set fetch (retries included). */
  timeoutMs: number
  observer?: UpstreamObserver
}

// jose is loaded on the first token, not at start-up: a service without AUTH_JWKS_URL or
// AUTH_JWT_SECRET never loads it (it is ~60 ES modules, 50 ms and a few MiB on start-up).
type Jose = typeof import('jose')

const BEARER = /^Bearer +([A-Za-z0-9\-_.~+/]+=*) *$/i

/** Why a token is refused, in the caller's words (never the token or its claims). */
function refusalOf ({ errors }: Jose, err: unknown): Error | undefined {
  if (err instanceof errors.JWTExpired) return new TokenRefused('the token has expired')
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return new TokenRefused('the token is not valid yet')
    if (err.claim === 'iss') return new TokenRefused('the token was not issued by an accepted issuer')
    if (err.claim === 'aud') return new TokenRefused('the token is not meant for this service (audience)')
    return new TokenRefused(`the token's ${err.claim} claim is missing or invalid`)
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return new TokenRefused('the token\'s signature algorithm is not accepted')
  if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenRefused('the token\'s signature is not valid')
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return new TokenRefused('no known key matches the token')
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) return new TokenRefused('the token is malformed')
  return undefined
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A claim by its name, else by a dotted path (`realm_access.roles`): namespaced claim names contain dots. */
function claim (payload: JWTPayload, name: string): unknown {
  if (Object.hasOwn(payload, name)) return payload[name]
  let current: unknown = payload
  for (const key of name.split('.')) {
    if (!isObject(current) || !Object.hasOwn(current, key)) return undefined
    current = current[key]
  }
  return current
}

// What cannot travel in a header (the ids and groups are forwarded upstream as headers).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/

function groupsOf (value: unknown): string[] {
  const names = typeof value === 'string' ? commaList(value) : Array.isArray(value) ? value.filter((g): g is string => typeof g === 'string').map(g => g.trim()) : []
  return names.filter(g => g !== '' && !CONTROL.test(g))
}

function userIdOf (value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '' && !CONTROL.test(value)) return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}

/**
 * The provider's key set, fetched by jose through the service's HTTP client (deadline, retries,
 * metrics), so that a failure is an UpstreamError of the identity target like any other.
 */
function remoteKeySet (jose: Jose, mode: Extract<AuthenticationMode, { kind: 'jwks' }>, env: Env, http: HttpUpstream): JWTVerifyGetKey {
  const operation = 'jwks'
  const keys = jose.createRemoteJWKSet(new URL(mode.url), {
    cacheMaxAge: env.AUTH_JWKS_CACHE_MS,
    cooldownDuration: env.AUTH_JWKS_COOLDOWN_MS,
    // The deadline is the HTTP client's (IDENTITY_TIMEOUT_MS); jose's signal is not needed.
    [jose.customFetch]: async () => {
      const res = await http.requestJson({ operation, method: 'GET', path: '', url: mode.url, headers: { accept: 'application/json, application/jwk-set+json' } })
      if (res.statusCode !== 200) throw new UpstreamError({ target: 'identity', operation, failure: 'status', upstreamStatus: res.statusCode })
      if (res.data === undefined) throw new UpstreamError({ target: 'identity', operation, failure: 'format' })
      return new Response(JSON.stringify(res.data), { status: 200, headers: { 'content-type': 'application/json' } })
    }
  })
  return async (header, token) => {
    try {
      return await keys(header, token)
    } catch (err) {
      if (err instanceof UpstreamError || refusalOf(jose, err) !== undefined) throw err
      // Not a key set, or a key that cannot be imported: the provider's answer is unusable.
      throw new UpstreamError({ target: 'identity', operation, failure: 'format' })
    }
  }
}

export function createTokenVerifier (opts: TokenVerifierOptions): TokenVerifier {
  const { env, mode } = opts
  let http: HttpUpstream | undefined
  let keyOf: (jose: Jose) => JWTVerifyGetKey | Uint8Array
  if (mode.kind === 'jwks') {
    const upstream = new HttpUpstream({ target: 'identity', baseUrl: new URL(mode.url).origin, timeoutMs: opts.timeoutMs, observer: opts.observer })
    http = upstream
    keyOf = jose => remoteKeySet(jose, mode, env, upstream)
  } else {
    const secret = new TextEncoder().encode(mode.secret)
    keyOf = () => secret
  }
  let loaded: Promise<{ jose: Jose, key: JWTVerifyGetKey | Uint8Array }> | undefined
  async function load (): Promise<{ jose: Jose, key: JWTVerifyGetKey | Uint8Array }> {
    const jose = await import('jose')
    return { jose, key: keyOf(jose) }
  }
  const issuers = commaList(env.AUTH_ISSUER)
  const audiences = commaList(env.AUTH_AUDIENCE)
  const options: JWTVerifyOptions = {
    algorithms: mode.algorithms,
    clockTolerance: env.AUTH_CLOCK_TOLERANCE_S,
    // A token without an expiry would be good for ever once leaked.
    requiredClaims: ['exp'],
    ...(issuers.length > 0 ? { issuer: issuers } : {}),
    ...(audiences.length > 0 ? { audience: audiences } : {})
  }

  async function payloadOf (token: string): Promise<JWTPayload> {
    const { jose, key } = await (loaded ??= load())
    try {
      // The two overloads of jwtVerify (a key, a key function) take the same options.
      const { payload } = typeof key === 'function'
        ? await jose.jwtVerify(token, key, options)
        : await jose.jwtVerify(token, key, options)
      return payload
    } catch (err) {
      throw refusalOf(jose, err) ?? err
    }
  }

  return {
    async verify (authorization) {
      const header = Array.isArray(authorization) ? undefined : authorization
      if (header === undefined || header.trim() === '') throw new TokenRefused('an Authorization: Bearer token is required')
      const token = BEARER.exec(header)?.[1]
      if (token === undefined) throw new TokenRefused('the Authorization header must be "Bearer <token>"')
      const payload = await payloadOf(token)
      const userId = userIdOf(claim(payload, env.AUTH_USER_ID_CLAIM))
      if (userId === undefined) throw new TokenRefused(`the token has no ${env.AUTH_USER_ID_CLAIM} claim naming the user`)
      return { userId, groups: groupsOf(claim(payload, env.AUTH_GROUPS_CLAIM)) }
    },
    async close () {
      await http?.close()
    }
  }
}
