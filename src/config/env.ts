import { isIP } from 'node:net'
import envSchema from 'env-schema'
import addFormats from 'ajv-formats'
import { Type, type Static } from '../lib/typebox.js'
import { ConfigError } from './errors.js'
import { MAX_TOKEN_EXPIRY_SECONDS, MIN_TOKEN_EXPIRY_SECONDS, RECORDING_TYPES } from '../kaleyra/model.js'
import { parseByteSize } from './byte-size.js'

const bool = (defaultValue: boolean, description: string) => Type.Boolean({ default: defaultValue, description })
const SIZE_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*([kKmMgG]?[bB])?\\s*$'
const optionalString = (description: string) => Type.Optional(Type.String({ minLength: 1, description }))

export const EnvSchema = Type.Object({
  BANDYER_API_SECRET_KEY: optionalString('Kaleyra API key, sent as the apikey header. Required unless KALEYRA_EMULATOR is true.'),
  BANDYER_BASE_URL: Type.Optional(Type.String({ format: 'uri', description: 'Kaleyra v2 base URL, e.g. https://api.sandbox.eu.bandyer.com' })),
  KALEYRA_EMULATOR: bool(false, 'Run the embedded Kaleyra emulator in-process instead of calling Kaleyra (demo and local development).'),
  KALEYRA_EMULATOR_PORT: Type.Integer({ default: 0, minimum: 0, maximum: 65535, description: 'Port of the embedded Kaleyra emulator on 127.0.0.1 (0: any free port).' }),
  HTTP_PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
  HOST: optionalString('Address the service listens on. Default 0.0.0.0, but 127.0.0.1 when KALEYRA_EMULATOR is true (the demo trusts identity headers).'),
  KALEYRA_EMULATOR_PUBLIC_URL: Type.Optional(Type.String({ format: 'uri', description: 'Origin of the embedded emulator as browsers reach it (Docker: http://localhost:<published port>); used in the links it hands out.' })),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => Type.Literal(l)), { default: 'info' }),
  ENABLE_TRACING: bool(false, 'Export OpenTelemetry traces (OTLP/HTTP JSON to OTEL_EXPORTER_OTLP_ENDPOINT; standard OTEL_* variables), as lc39\'s --enable-tracing. Read at start-up, before the rest of the configuration.'),
  SERVICE_PREFIX: Type.String({ default: '/', pattern: '^/', description: 'Path prefix of the API routes (status and documentation routes stay at the root).' }),
  HTTP_REQUEST_TIMEOUT_MS: Type.Integer({ default: 30_000, minimum: 1, description: 'A request other than a multipart upload must be received in full within this; then its connection is closed.' }),
  HTTP_HEADERS_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 1, description: 'Request headers must be received within this (Node headersTimeout).' }),
  WAIT_BEFORE_SERVER_CLOSE_SEC: Type.Number({ default: 10, minimum: 0, description: 'Seconds to keep serving (reporting not ready) after SIGTERM before closing.' }),
  EXPOSE_METRICS: bool(true, 'Serve the Prometheus metrics at GET /-/metrics (lc39\'s switch); false: 404 there, and requests are not timed.'),
  STATUS_CHECK_CACHE_MS: Type.Integer({ default: 5_000, minimum: 0, description: 'How long /-/ready and /-/check-up reuse the result of their dependency checks.' }),
  STATUS_CHECK_TIMEOUT_MS: Type.Integer({ default: 2_000, minimum: 1, description: 'Deadline of each dependency check of /-/ready and /-/check-up.' }),
  TELECONSULTATION_SERVICE_CONFIG_PATH: optionalString('Path of the JSON service configuration file.'),
  CRUD_SERVICE_URL: Type.Optional(Type.String({ format: 'uri', description: 'Base URL of the Mia CRUD Service; enables the CRUD store.' })),
  CRUD_SERVICE: optionalString('Host name of the Mia CRUD Service (alternative to CRUD_SERVICE_URL).'),
  TELECONSULTATIONS_CRUD_NAME: Type.String({ default: 'teleconsultations', minLength: 1 }),
  USER_ID_MAP_CRUD_NAME: Type.String({ default: 'teleconsultations_users', minLength: 1 }),
  IDEMPOTENCY_KEYS: bool(false, 'Honour the Idempotency-Key header of POST /teleconsultation and the legacy participants route (a repeat within 24 h answers the first answer and creates nothing).'),
  IDEMPOTENCY_CRUD_NAME: Type.String({ default: 'teleconsultations_idempotency', minLength: 1, description: 'CRUD collection of the idempotency keys (IDEMPOTENCY_KEYS=true with the CRUD store).' }),
  AUTH_SERVICE: optionalString('Host of the identity service (Mia auth0-client); enables identity-provider mode.'),
  CUSTOM_ID_USERS_API_ENDPOINT: Type.Optional(Type.String({ format: 'uri' })),
  DEFAULT_CLIENT_TYPE: optionalString('client-type sent to the identity service when the request has none.'),
  UNLIMITED_TELECONSULTATION: bool(true, 'Create rooms without a duration.'),
  LIVE_TELECONSULTATION: bool(true, 'Kaleyra live flag of the rooms.'),
  IMMUTABLE_PERIOD_MS: Type.Integer({ default: 0, minimum: 0 }),
  TELECONSULTATION_DELETE_UPLOADS: bool(false, 'Enable DELETE /teleconsultation/:id/uploads.'),
  UPLOADS_PER_CALLER: Type.Integer({ default: 4, minimum: 1, description: 'Background uploads one caller may have in progress at once on a replica; one more is refused with 429 and Retry-After.' }),
  UPLOAD_IDLE_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 1, description: 'A background upload is abandoned (408, and the upload to Kaleyra aborted) when its client sends nothing for this long.' }),
  UPLOADS_CLEANUP_DEADLINE_MS: Type.Integer({ default: 60_000, minimum: 1, description: 'Overall deadline of DELETE /teleconsultation/:id/uploads: then it answers 200 with the files deleted so far (deleted < total).' }),
  DEFAULT_RECORDING_TYPE: Type.Union(RECORDING_TYPES.map(r => Type.Literal(r)), { default: 'none' }),
  OFFLINE_TRANSCRIPTION: bool(true, 'Recorded rooms also ask Kaleyra for an offline transcription (a per-company Kaleyra feature).'),
  TRANSCRIPTION_MAX_FILE_SIZE: Type.String({ default: '50MB', pattern: SIZE_PATTERN }),
  BODY_LIMIT_BYTES: Type.String({ default: '1048576', pattern: SIZE_PATTERN, description: 'Largest request body (JSON or form) accepted, in bytes or as 1MB, 512KB...; larger: 413. Multipart uploads and Kaleyra webhooks keep their own limits.' }),
  TRANSCRIPTION_MEMORY_BUDGET: Type.String({ default: '8MB', pattern: SIZE_PATTERN, description: 'Memory shared by all transcriptions Kaleyra sends without content-length while they are read; beyond it they go to a temporary file (TMPDIR).' }),
  USERID_HEADER_KEY: Type.String({ default: 'miauserid', minLength: 1 }),
  GROUPS_HEADER_KEY: Type.String({ default: 'miausergroups', minLength: 1 }),
  USER_PROPERTIES_HEADER_KEY: Type.String({ default: 'miauserproperties', minLength: 1 }),
  CLIENTTYPE_HEADER_KEY: Type.String({ default: 'client-type', minLength: 1 }),
  BACKOFFICE_HEADER_KEY: Type.String({ default: 'isbackoffice', minLength: 1, description: 'Header flagging backoffice requests (any non-empty value); forwarded as 1 to the CRUD and identity services.' }),
  ADDITIONAL_HEADERS_TO_PROXY: Type.String({ default: '' }),
  SETTINGS_ADMIN_GROUPS: Type.String({ default: '', description: 'Comma list of groups allowed on /settings routes (empty: any authenticated user).' }),
  WRITE_GROUPS: Type.String({ default: '', description: 'Comma list of groups allowed to create, change and delete teleconsultations (empty, with no BACKOFFICE_HEADER_KEY: anyone).' }),
  WRITE_BACKOFFICE: Type.Boolean({ default: false, description: 'When true, requests whose BACKOFFICE_HEADER_KEY header is "true" may write teleconsultations (and writes are closed to others unless WRITE_GROUPS lets them in).' }),
  CREDENTIALS_GROUPS: Type.String({ default: '', description: 'Comma list of groups allowed to obtain SDK credentials (empty: any authenticated user).' }),
  CREDENTIALS_MAX_EXPIRES_IN: Type.Integer({ default: MAX_TOKEN_EXPIRY_SECONDS, minimum: MIN_TOKEN_EXPIRY_SECONDS, maximum: MAX_TOKEN_EXPIRY_SECONDS, description: 'Longest expiresIn (seconds) POST /credentials accepts.' }),
  AUTH_JWKS_URL: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', description: 'JSON Web Key Set of the identity provider: the caller then comes only from a verified Authorization: Bearer token (stand-alone deployments).' })),
  AUTH_JWT_SECRET: optionalString('Shared HS256 key (at least 32 characters): the caller then comes only from a verified Authorization: Bearer token. Not with AUTH_JWKS_URL.'),
  AUTH_ISSUER: Type.String({ default: '', description: 'Comma list of accepted token issuers (iss). Required with AUTH_JWKS_URL.' }),
  AUTH_AUDIENCE: Type.String({ default: '', description: 'Comma list of accepted token audiences (aud), one must match. Required with AUTH_JWKS_URL.' }),
  AUTH_USER_ID_CLAIM: Type.String({ default: 'sub', minLength: 1, description: 'Claim holding the caller\'s user id (a dotted path reaches into objects).' }),
  AUTH_GROUPS_CLAIM: Type.String({ default: 'groups', minLength: 1, description: 'Claim holding the caller\'s groups: an array of names or a comma-separated string (a dotted path reaches into objects, e.g. realm_access.roles).' }),
  AUTH_ALGORITHMS: Type.String({ default: '', description: 'Comma list of accepted signature algorithms (default RS256,PS256,ES256 with AUTH_JWKS_URL, HS256 with AUTH_JWT_SECRET); never none.' }),
  AUTH_CLOCK_TOLERANCE_S: Type.Integer({ default: 30, minimum: 0, maximum: 300, description: 'Leeway, in seconds, on the exp and nbf of tokens.' }),
  AUTH_JWKS_CACHE_MS: Type.Integer({ default: 600_000, minimum: 1_000, description: 'How long the fetched JSON Web Key Set is used before it is fetched again.' }),
  AUTH_JWKS_COOLDOWN_MS: Type.Integer({ default: 30_000, minimum: 0, description: 'A token signed with a key the cached set does not have fetches the set again, at most once in this time.' }),
  TRUST_PROXY: optionalString('Whether X-Forwarded-For is believed for the client address: true, false, a number of proxy hops, or a comma list of proxy addresses, CIDRs and loopback/linklocal/uniquelocal. Unset: TRUSTED_PROXIES, as on the platform.'),
  TRUSTED_PROXIES: optionalString('custom-plugin-lib\'s setting, used when TRUST_PROXY is unset: comma list of the proxies (addresses, CIDRs) whose X-Forwarded-For is believed; unset, none is.'),
  KALEYRA_USER_ID_SECRET: optionalString('Key of the HMAC that derives the Kaleyra id of a new user from their external id (default: BANDYER_API_SECRET_KEY). Every replica needs the same one; users already mapped keep their ids.'),
  KALEYRA_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 1 }),
  CRUD_TIMEOUT_MS: Type.Integer({ default: 5_000, minimum: 1 }),
  IDENTITY_TIMEOUT_MS: Type.Integer({ default: 5_000, minimum: 1 }),
  KALEYRA_WEBHOOKS: bool(false, 'Serve POST /webhooks/kaleyra (signed Kaleyra events: room deleted, recording and transcription available).'),
  KALEYRA_WEBHOOK_SECRET: optionalString('Key of the Kaleyra webhook signatures (default: BANDYER_API_SECRET_KEY).'),
  KALEYRA_WEBHOOK_TOLERANCE_S: Type.Integer({ default: 300, minimum: 1, description: 'How far the signed time of a Kaleyra webhook may be from now, in seconds.' }),
  ROOM_CLOSE_AFTER_END_MS: Type.Optional(Type.Integer({ minimum: 0, description: 'Deletes the Kaleyra room this long after the teleconsultation\'s end date (unset: rooms stay).' })),
  RECORDING_LINK_TTL_S: Type.Integer({ default: 300, minimum: 30, maximum: 3600, description: 'Validity of the recording download links asked of Kaleyra, in seconds.' }),
  EVENTS_WEBHOOK_URL: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', description: 'Where the service POSTs its signed events (teleconsultation created, updated, deleted, ended; recording and transcription available); unset: no events.' })),
  EVENTS_WEBHOOK_SECRET: optionalString('Key of the HMAC signature of the events sent to EVENTS_WEBHOOK_URL (required with it).'),
  EVENTS_RETRY_FOR_MS: Type.Integer({ default: 24 * 60 * 60_000, minimum: 1, description: 'How long an event the receiver does not accept is retried (with back-off) before it is given up.' }),
  EVENTS_TIMEOUT_MS: Type.Integer({ default: 5_000, minimum: 1, description: 'Deadline of each delivery to EVENTS_WEBHOOK_URL.' }),
  EVENTS_OUTBOX_CRUD_NAME: Type.String({ default: 'teleconsultation_events', minLength: 1, description: 'CRUD collection of the events waiting for delivery (CRUD store with EVENTS_WEBHOOK_URL only).' }),
})

export type Env = Static<typeof EnvSchema>

interface AjvLikeError {
  instancePath?: string
  keyword?: string
  message?: string
  params?: { missingProperty?: string; allowedValue?: unknown }
}

/** The allowed values of an enumeration variable (a union of literals), or undefined. */
function allowedValues (name: string): string[] | undefined {
  const schema = (EnvSchema.properties as Record<string, { anyOf?: Array<{ const?: unknown }> }>)[name]
  const values = schema?.anyOf?.map(s => s.const)
  return values?.every(v => typeof v === 'string') === true ? values as string[] : undefined
}

const SIZE_VARIABLES = new Set(['TRANSCRIPTION_MAX_FILE_SIZE', 'BODY_LIMIT_BYTES', 'TRANSCRIPTION_MEMORY_BUDGET'])

/** One message per variable: enumerations list their values once, sizes show examples, not a regex. */
function describe (errors: AjvLikeError[]): string {
  const messages = new Map<string, string>()
  for (const e of errors) {
    const name = e.params?.missingProperty ?? (e.instancePath ?? '').replace(/^\//, '')
    if (messages.has(name)) continue
    const allowed = allowedValues(name)
    if (e.params?.missingProperty !== undefined) messages.set(name, `${name} is required`)
    else if (allowed !== undefined) messages.set(name, `${name} must be one of ${allowed.join(', ')}`)
    else if (SIZE_VARIABLES.has(name)) messages.set(name, `${name} must be a size like 50MB, 512KB or 1048576 (bytes)`)
    else messages.set(name, `${name} ${e.message ?? 'is invalid'}`)
  }
  return [...messages.values()].join('; ')
}

/**
 * Reads and validates the environment once. `source` replaces process.env (tests);
 * `.env` is read only when reading the real environment.
 */
export function loadEnv (source?: Record<string, string | undefined>): Env {
  let env: Env
  try {
    env = envSchema<Env>({
      schema: EnvSchema,
      dotenv: source === undefined,
      env: source === undefined,
      data: source ?? {},
      ajv: {
        customOptions (ajv) {
          addFormats.default(ajv as unknown as Parameters<typeof addFormats.default>[0], ['uri'])
          return ajv
        }
      }
    })
  } catch (err) {
    const errors = (err as { errors?: AjvLikeError[] }).errors
    throw new ConfigError(errors !== undefined ? describe(errors) : (err as Error).message)
  }
  if (!env.KALEYRA_EMULATOR) {
    if (env.BANDYER_API_SECRET_KEY === undefined) throw new ConfigError('BANDYER_API_SECRET_KEY is required (or set KALEYRA_EMULATOR=true)')
    if (env.BANDYER_BASE_URL === undefined) throw new ConfigError('BANDYER_BASE_URL is required (or set KALEYRA_EMULATOR=true)')
  }
  if (env.CUSTOM_ID_USERS_API_ENDPOINT !== undefined && env.AUTH_SERVICE === undefined) {
    throw new ConfigError('CUSTOM_ID_USERS_API_ENDPOINT requires AUTH_SERVICE')
  }
  checkAuthentication(env)
  trustProxy(env)
  if (env.EVENTS_WEBHOOK_URL !== undefined && env.EVENTS_WEBHOOK_SECRET === undefined) {
    throw new ConfigError('EVENTS_WEBHOOK_URL requires EVENTS_WEBHOOK_SECRET')
  }
  parseByteSize(env.TRANSCRIPTION_MAX_FILE_SIZE)
  bodyLimit(env)
  parseByteSize(env.TRANSCRIPTION_MEMORY_BUDGET)
  return env
}

export function crudBaseUrl (env: Env): string | undefined {
  if (env.CRUD_SERVICE_URL !== undefined) return env.CRUD_SERVICE_URL
  if (env.CRUD_SERVICE !== undefined) return `http://${env.CRUD_SERVICE}`
  return undefined
}

export function commaList (value: string): string[] {
  return value.split(',').map(v => v.trim()).filter(v => v.length > 0)
}

/** Where the service listens: HOST, else loopback in emulator (demo) mode, else every interface as 2.1 did. */
export function listenHost (env: Env): string {
  return env.HOST ?? (env.KALEYRA_EMULATOR ? '127.0.0.1' : '0.0.0.0')
}

/** The path the API routes are served under ('' for the root); status and documentation routes ignore it. */
export function apiPrefix (env: Env): string {
  return env.SERVICE_PREFIX === '/' ? '' : env.SERVICE_PREFIX.replace(/\/+$/, '')
}

/** BODY_LIMIT_BYTES in bytes: Fastify's bodyLimit (lc39 set none that mattered; we keep one). */
export function bodyLimit (env: Env): number {
  return parseByteSize(env.BODY_LIMIT_BYTES, 'BODY_LIMIT_BYTES')
}

/** Algorithms a token may be signed with: asymmetric ones with a key set, HMAC ones with a shared secret. */
const ASYMMETRIC_ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'])
const HMAC_ALGORITHMS = new Set(['HS256', 'HS384', 'HS512'])
const MIN_SECRET_LENGTH = 32

/** The verified-identity mode the environment asks for, or undefined (the platform's user headers are trusted). */
export type AuthenticationMode =
  | { kind: 'jwks', url: string, algorithms: string[] }
  | { kind: 'secret', secret: string, algorithms: string[] }

export function authenticationMode (env: Env): AuthenticationMode | undefined {
  const listed = commaList(env.AUTH_ALGORITHMS)
  if (env.AUTH_JWKS_URL !== undefined) return { kind: 'jwks', url: env.AUTH_JWKS_URL, algorithms: listed.length > 0 ? listed : ['RS256', 'PS256', 'ES256'] }
  if (env.AUTH_JWT_SECRET !== undefined) return { kind: 'secret', secret: env.AUTH_JWT_SECRET, algorithms: listed.length > 0 ? listed : ['HS256'] }
  return undefined
}

/** The AUTH_* settings make sense together, or the start fails naming the problem. */
function checkAuthentication (env: Env): void {
  if (env.AUTH_JWKS_URL !== undefined && env.AUTH_JWT_SECRET !== undefined) throw new ConfigError('AUTH_JWKS_URL and AUTH_JWT_SECRET exclude each other: set one')
  const mode = authenticationMode(env)
  if (mode === undefined) {
    const given = {
      AUTH_ISSUER: env.AUTH_ISSUER,
      AUTH_AUDIENCE: env.AUTH_AUDIENCE,
      AUTH_ALGORITHMS: env.AUTH_ALGORITHMS
    }
    const stray = Object.entries(given)
      .filter(([, value]) => value.trim() !== '')
      .map(([name]) => name)
    if (stray.length > 0) throw new ConfigError(`${stray.join(', ')} need AUTH_JWKS_URL or AUTH_JWT_SECRET`)
    return
  }
  const allowed = mode.kind === 'jwks' ? ASYMMETRIC_ALGORITHMS : HMAC_ALGORITHMS
  const wrong = mode.algorithms.filter(a => !allowed.has(a))
  if (wrong.length > 0) {
    throw new ConfigError(`AUTH_ALGORITHMS: ${wrong.join(', ')} cannot be used with ${mode.kind === 'jwks' ? 'AUTH_JWKS_URL' : 'AUTH_JWT_SECRET'} (allowed: ${[...allowed].join(', ')})`)
  }
  if (mode.kind === 'jwks') {
    if (commaList(env.AUTH_ISSUER).length === 0) throw new ConfigError('AUTH_ISSUER is required with AUTH_JWKS_URL (the iss of the accepted tokens)')
    if (commaList(env.AUTH_AUDIENCE).length === 0) throw new ConfigError('AUTH_AUDIENCE is required with AUTH_JWKS_URL (the aud of the tokens meant for this service)')
  } else if (mode.secret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`AUTH_JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters`)
  }
  if (env.WRITE_BACKOFFICE) {
    throw new ConfigError('WRITE_BACKOFFICE trusts a header any caller can send: it cannot be used with AUTH_JWKS_URL or AUTH_JWT_SECRET (use WRITE_GROUPS)')
  }
}

/**
 * Fastify's trustProxy from TRUST_PROXY; unset, from TRUSTED_PROXIES as custom-plugin-lib gave it
 * to Fastify on the platform (a list); undefined when neither is set: nothing is trusted.
 */
export function trustProxy (env: Env): boolean | string[] | ((address: string, hop: number) => boolean) | undefined {
  const raw = env.TRUST_PROXY?.trim()
  if (raw === undefined || raw === '') return env.TRUSTED_PROXIES === undefined ? undefined : proxyList('TRUSTED_PROXIES', env.TRUSTED_PROXIES)
  if (raw === 'true') return true
  if (raw === 'false') return false
  if (/^\d+$/.test(raw)) {
    // What Fastify does with a number (its types take none): the first `hops` proxies are trusted.
    const hops = Number(raw)
    return (_address, hop) => hop < hops
  }
  return proxyList('TRUST_PROXY', raw)
}

function proxyList (name: string, value: string): string[] {
  const entries = commaList(value)
  const bad = entries.filter(e => !isAddressOrCidr(e))
  const kinds = name === 'TRUST_PROXY' ? 'true, false, a number of hops or a comma list of IP addresses/CIDRs' : 'a comma list of IP addresses/CIDRs'
  if (bad.length > 0) throw new ConfigError(`${name} must be ${kinds} (not ${bad.join(', ')})`)
  return entries
}

// proxy-addr's names for the loopback, link-local and unique-local ranges.
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])

function isAddressOrCidr (entry: string): boolean {
  if (RANGE_NAMES.has(entry)) return true
  const [address, bits, ...rest] = entry.split('/')
  if (rest.length > 0) return false
  const family = isIP(address)
  if (family === 0) return false
  if (bits === undefined) return true
  if (!/^\d{1,3}$/.test(bits)) return false
  return Number(bits) <= (family === 4 ? 32 : 128)
}
