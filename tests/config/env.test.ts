import t from 'tap'
import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadEnv } from '../../src/config/env.js'
import { parseByteSize } from '../../src/config/byte-size.js'
import { ConfigError } from '../../src/config/errors.js'

const kaleyra = { BANDYER_API_SECRET_KEY: 'ak_test', BANDYER_BASE_URL: 'https://api.sandbox.eu.bandyer.com' }

t.test('defaults of the 2.x service', async t => {
  const env = loadEnv(kaleyra)
  t.match(env, {
    HTTP_PORT: 3000,
    LOG_LEVEL: 'info',
    TELECONSULTATIONS_CRUD_NAME: 'teleconsultations',
    USER_ID_MAP_CRUD_NAME: 'teleconsultations_users',
    UNLIMITED_TELECONSULTATION: true,
    LIVE_TELECONSULTATION: true,
    IMMUTABLE_PERIOD_MS: 0,
    TELECONSULTATION_DELETE_UPLOADS: false,
    DEFAULT_RECORDING_TYPE: 'none',
    TRANSCRIPTION_MAX_FILE_SIZE: '50MB',
    USERID_HEADER_KEY: 'miauserid',
    GROUPS_HEADER_KEY: 'miausergroups',
    USER_PROPERTIES_HEADER_KEY: 'miauserproperties',
    CLIENTTYPE_HEADER_KEY: 'client-type',
    ADDITIONAL_HEADERS_TO_PROXY: '',
    KALEYRA_TIMEOUT_MS: 10000,
    CRUD_TIMEOUT_MS: 5000,
    SERVICE_PREFIX: '/',
    WAIT_BEFORE_SERVER_CLOSE_SEC: 10
  })
})

t.test('strings from the environment become typed values', async t => {
  const env = loadEnv({ ...kaleyra, HTTP_PORT: '8080', UNLIMITED_TELECONSULTATION: 'false', IMMUTABLE_PERIOD_MS: '600000', DEFAULT_RECORDING_TYPE: 'automatic' })
  t.equal(env.HTTP_PORT, 8080)
  t.equal(env.UNLIMITED_TELECONSULTATION, false)
  t.equal(env.IMMUTABLE_PERIOD_MS, 600000)
  t.equal(env.DEFAULT_RECORDING_TYPE, 'automatic')
})

t.test('each bad value stops with one line naming the variable', async t => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ BANDYER_BASE_URL: 'https://api.sandbox.eu.bandyer.com' }, /BANDYER_API_SECRET_KEY is required/],
    [{ BANDYER_API_SECRET_KEY: 'k' }, /BANDYER_BASE_URL is required/],
    [{ ...kaleyra, BANDYER_BASE_URL: 'not a url' }, /BANDYER_BASE_URL must match format "uri"/],
    [{ ...kaleyra, HTTP_PORT: 'eighty' }, /HTTP_PORT must be integer/],
    [{ ...kaleyra, HTTP_PORT: '70000' }, /HTTP_PORT must be <= 65535/],
    [{ ...kaleyra, IMMUTABLE_PERIOD_MS: '-1' }, /IMMUTABLE_PERIOD_MS must be >= 0/],
    [{ ...kaleyra, DEFAULT_RECORDING_TYPE: 'always' }, /DEFAULT_RECORDING_TYPE/],
    [{ ...kaleyra, LOG_LEVEL: 'verbose' }, /LOG_LEVEL/],
    [{ ...kaleyra, UNLIMITED_TELECONSULTATION: 'yes please' }, /UNLIMITED_TELECONSULTATION must be boolean/],
    [{ ...kaleyra, TRANSCRIPTION_MAX_FILE_SIZE: 'fifty' }, /TRANSCRIPTION_MAX_FILE_SIZE/],
    [{ ...kaleyra, CUSTOM_ID_USERS_API_ENDPOINT: 'http://users/' }, /CUSTOM_ID_USERS_API_ENDPOINT requires AUTH_SERVICE/]
  ]
  for (const [source, message] of bad) {
    t.throws(() => loadEnv(source), { name: 'ConfigError', message }, String(message))
    try { loadEnv(source) } catch (err) { t.notOk((err as Error).message.includes('\n'), 'one line') }
  }
})

t.test('enumerations list their allowed values once; sizes show examples, not a regex', async t => {
  const message = (source: Record<string, string>): string => {
    try { loadEnv({ ...kaleyra, ...source }) } catch (err) { return (err as Error).message }
    return ''
  }
  t.equal(message({ LOG_LEVEL: 'verbose' }), 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent')
  t.equal(message({ DEFAULT_RECORDING_TYPE: 'always' }), 'DEFAULT_RECORDING_TYPE must be one of none, manual, automatic')
  const size = message({ TRANSCRIPTION_MAX_FILE_SIZE: 'fifty' })
  t.equal(size, 'TRANSCRIPTION_MAX_FILE_SIZE must be a size like 50MB, 512KB or 1048576 (bytes)')
  t.notMatch(size, /\\d|\^/, 'no regex in the message')
  t.equal(message({ LOG_LEVEL: 'verbose', HTTP_PORT: 'x' }).split(';').length, 2, 'one message per variable')
})

t.test('emulator mode needs no Kaleyra credentials', async t => {
  const env = loadEnv({ KALEYRA_EMULATOR: 'true' })
  t.equal(env.KALEYRA_EMULATOR, true)
  t.equal(env.BANDYER_API_SECRET_KEY, undefined)
})

t.test('.env is read when loading the real environment', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'tcs-env-'))
  writeFileSync(join(dir, '.env'), 'BANDYER_API_SECRET_KEY=from-dotenv\nBANDYER_BASE_URL=https://api.eu.bandyer.com\nHTTP_PORT=4321\n')
  const cwd = process.cwd()
  const saved = { ...process.env }
  process.chdir(dir)
  delete process.env.HTTP_PORT
  delete process.env.BANDYER_API_SECRET_KEY
  delete process.env.BANDYER_BASE_URL
  t.teardown(() => { process.chdir(cwd); process.env = saved })
  const env = loadEnv()
  t.equal(env.BANDYER_API_SECRET_KEY, 'from-dotenv')
  t.equal(env.HTTP_PORT, 4321)
})

t.test('transcription sizes', async t => {
  t.equal(parseByteSize('50MB'), 50 * 1024 * 1024)
  t.equal(parseByteSize('512KB'), 512 * 1024)
  t.equal(parseByteSize('1GB'), 1024 ** 3)
  t.equal(parseByteSize('1.5 mb'), 1.5 * 1024 * 1024)
  t.equal(parseByteSize('1048576'), 1048576)
  t.equal(parseByteSize('10b'), 10)
  t.throws(() => parseByteSize('0'), ConfigError)
  t.throws(() => parseByteSize('12 parsecs'), ConfigError)
})
