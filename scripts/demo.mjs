// `npm run demo`: builds when the sources changed, then starts the service with the Kaleyra
// emulator in-process, the in-memory store and header identity mode (see README).
import { buildIfStale } from './lib/build.mjs'

const entry = buildIfStale()

const demoDefaults = {
  USERID_HEADER_KEY: 'miauserid',
  GROUPS_HEADER_KEY: 'miausergroups',
  WAIT_BEFORE_SERVER_CLOSE_SEC: '0',
  // So that every route can be tried: uploads cleanup and recorded rooms (recordings, transcriptions).
  TELECONSULTATION_DELETE_UPLOADS: 'true',
  DEFAULT_RECORDING_TYPE: 'automatic'
}
for (const [key, value] of Object.entries(demoDefaults)) process.env[key] ??= value
// The demo always runs on the embedded parts: no real Kaleyra, CRUD Service or identity service.
process.env.KALEYRA_EMULATOR = 'true'
for (const key of ['CRUD_SERVICE_URL', 'CRUD_SERVICE', 'AUTH_SERVICE', 'CUSTOM_ID_USERS_API_ENDPOINT', 'BANDYER_BASE_URL']) delete process.env[key]

await import(entry)
