import envSchema from 'env-schema'
import addFormats from 'ajv-formats'
import { Type, type Static } from '@sinclair/typebox'
import { ConfigError } from './errors.js'
import { RECORDING_TYPES } from '../kaleyra/wire.js'
import { parseByteSize } from './byte-size.js'

const bool = (defaultValue: boolean, description: string) => Type.Boolean({ default: defaultValue, description })
const optionalString = (description: string) => Type.Optional(Type.String({ minLength: 1, description }))

export const EnvSchema = Type.Object({
  BANDYER_API_SECRET_KEY: optionalString('Kaleyra API key, sent as the apikey header. Required unless KALEYRA_EMULATOR is true.'),
  BANDYER_BASE_URL: Type.Optional(Type.String({ format: 'uri', description: 'Kaleyra v2 base URL, e.g. https://api.sandbox.eu.bandyer.com' })),
  KALEYRA_EMULATOR: bool(false, 'Run the embedded Kaleyra emulator in-process instead of calling Kaleyra (demo and local development).'),
  KALEYRA_EMULATOR_PORT: Type.Integer({ default: 0, minimum: 0, maximum: 65535, description: 'Port of the embedded Kaleyra emulator on 127.0.0.1 (0: any free port).' }),
  HTTP_PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => Type.Literal(l)), { default: 'info' }),
  SERVICE_PREFIX: Type.String({ default: '/', pattern: '^/', description: 'Path prefix of the API routes (status and documentation routes stay at the root).' }),
  WAIT_BEFORE_SERVER_CLOSE_SEC: Type.Number({ default: 10, minimum: 0, description: 'Seconds to keep serving (reporting not ready) after SIGTERM before closing.' }),
  STATUS_CHECK_CACHE_MS: Type.Integer({ default: 5_000, minimum: 0, description: 'How long /-/ready and /-/check-up reuse the result of their dependency checks.' }),
  STATUS_CHECK_TIMEOUT_MS: Type.Integer({ default: 2_000, minimum: 1, description: 'Deadline of each dependency check of /-/ready and /-/check-up.' }),
  TELECONSULTATION_SERVICE_CONFIG_PATH: optionalString('Path of the JSON service configuration file.'),
  CRUD_SERVICE_URL: Type.Optional(Type.String({ format: 'uri', description: 'Base URL of the Mia CRUD Service; enables the CRUD store.' })),
  CRUD_SERVICE: optionalString('Host name of the Mia CRUD Service (alternative to CRUD_SERVICE_URL).'),
  TELECONSULTATIONS_CRUD_NAME: Type.String({ default: 'teleconsultations', minLength: 1 }),
  USER_ID_MAP_CRUD_NAME: Type.String({ default: 'teleconsultations_users', minLength: 1 }),
  AUTH_SERVICE: optionalString('Host of the identity service (Mia auth0-client); enables identity-provider mode.'),
  CUSTOM_ID_USERS_API_ENDPOINT: Type.Optional(Type.String({ format: 'uri' })),
  DEFAULT_CLIENT_TYPE: optionalString('client-type sent to the identity service when the request has none.'),
  UNLIMITED_TELECONSULTATION: bool(true, 'Create rooms without a duration.'),
  LIVE_TELECONSULTATION: bool(true, 'Kaleyra live flag of the rooms.'),
  IMMUTABLE_PERIOD_MS: Type.Integer({ default: 0, minimum: 0 }),
  TELECONSULTATION_DELETE_UPLOADS: bool(false, 'Enable DELETE /teleconsultation/:id/uploads.'),
  DEFAULT_RECORDING_TYPE: Type.Union(RECORDING_TYPES.map(r => Type.Literal(r)), { default: 'none' }),
  OFFLINE_TRANSCRIPTION: bool(true, 'Recorded rooms also ask Kaleyra for an offline transcription (a per-company Kaleyra feature).'),
  TRANSCRIPTION_MAX_FILE_SIZE: Type.String({ default: '50MB', pattern: '^\\s*\\d+(\\.\\d+)?\\s*([kKmMgG]?[bB])?\\s*$' }),
  USERID_HEADER_KEY: Type.String({ default: 'miauserid', minLength: 1 }),
  GROUPS_HEADER_KEY: Type.String({ default: 'miausergroups', minLength: 1 }),
  USER_PROPERTIES_HEADER_KEY: Type.String({ default: 'miauserproperties', minLength: 1 }),
  CLIENTTYPE_HEADER_KEY: Type.String({ default: 'client-type', minLength: 1 }),
  BACKOFFICE_HEADER_KEY: Type.String({ default: 'isbackoffice', minLength: 1, description: 'Header flagging backoffice requests (any non-empty value); forwarded as 1 to the CRUD and identity services.' }),
  ADDITIONAL_HEADERS_TO_PROXY: Type.String({ default: '' }),
  SETTINGS_ADMIN_GROUPS: Type.String({ default: '', description: 'Comma list of groups allowed on /settings routes (empty: any authenticated user).' }),
  KALEYRA_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 1 }),
  CRUD_TIMEOUT_MS: Type.Integer({ default: 5_000, minimum: 1 }),
  IDENTITY_TIMEOUT_MS: Type.Integer({ default: 5_000, minimum: 1 })
})

export type Env = Static<typeof EnvSchema>

interface AjvLikeError { instancePath?: string, message?: string, params?: { missingProperty?: string } }

function describe (errors: AjvLikeError[]): string {
  return errors.map(e => {
    const name = e.params?.missingProperty ?? (e.instancePath ?? '').replace(/^\//, '')
    return e.params?.missingProperty !== undefined ? `${name} is required` : `${name} ${e.message ?? 'is invalid'}`
  }).join('; ')
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
          addFormats.default(ajv as unknown as Parameters<typeof addFormats.default>[0])
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
  parseByteSize(env.TRANSCRIPTION_MAX_FILE_SIZE)
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

/** The path the API routes are served under ('' for the root); status and documentation routes ignore it. */
export function apiPrefix (env: Env): string {
  return env.SERVICE_PREFIX === '/' ? '' : env.SERVICE_PREFIX.replace(/\/+$/, '')
}
