import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startEmulator } from '../helpers/app.js'
import { as, body } from '../helpers/fixtures.js'
import { httpCall, startCompiledServer } from '../helpers/process.js'

// What a configuration does not use is not loaded (start-up time and resident memory): the JWT
// library on the first bearer token only, the OpenTelemetry SDK only with ENABLE_TRACING, undici
// on the first upstream call. A static import of any, anywhere in the app, would bring its cost
// back to every start.
const RECORDER = `--import=${new URL('../helpers/module-record/register.mjs', import.meta.url).href}`
const ON_DEMAND = /\/node_modules\/(jose|@opentelemetry\/(sdk-[^/]+|exporter-[^/]+|instrumentation[^/]*|resources|core))\//

function recordFile (t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tcs-modules-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'modules.txt')
}

const loaded = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter(line => line !== '')

t.test('the service as configured by default loads neither jose nor the OpenTelemetry SDK, even serving requests', async t => {
  const file = recordFile(t)
  const { url } = await startCompiledServer(t, { KALEYRA_EMULATOR: 'true', RECORD_MODULES_TO: file }, [RECORDER])
  t.equal((await httpCall(`${url}/-/ready`)).status, 200)
  t.equal((await httpCall(`${url}/teleconsultation/000000000000000000000000`, { headers: as('someone') })).status, 404)
  const modules = loaded(file)
  t.ok(modules.some(url => url.includes('/node_modules/fastify/')), 'the record holds what was loaded')
  t.same(modules.filter(url => ON_DEMAND.test(url)), [])
})

t.test('with AUTH_JWT_SECRET, jose is loaded by the first bearer token, not at start', async t => {
  const file = recordFile(t)
  const { url } = await startCompiledServer(t, {
    KALEYRA_EMULATOR: 'true',
    AUTH_JWT_SECRET: 'a-secret-of-at-least-thirty-two-characters!',
    RECORD_MODULES_TO: file
  }, [RECORDER])
  t.equal((await httpCall(`${url}/-/ready`)).status, 200)
  const jose = (): string[] => loaded(file).filter(url => url.includes('/node_modules/jose/'))
  t.same(jose(), [], 'not loaded once ready')
  const refused = await httpCall(`${url}/teleconsultation/000000000000000000000000`, { headers: { authorization: 'Bearer not.a.token' } })
  t.equal(refused.status, 401)
  t.ok(jose().length > 0, 'loaded to check the token')
})

t.test('undici is loaded by the first upstream call, not at start: a replica on the memory store that has not called Kaleyra does not hold it', async t => {
  const emulator = await startEmulator(t)
  const file = recordFile(t)
  const { url } = await startCompiledServer(t, {
    BANDYER_BASE_URL: emulator.url,
    BANDYER_API_SECRET_KEY: emulator.apiKey,
    RECORD_MODULES_TO: file
  }, [RECORDER])
  const undici = (): string[] => loaded(file).filter(url => url.includes('/node_modules/undici/'))
  t.equal((await httpCall(`${url}/-/ready`)).status, 200)
  t.equal((await httpCall(`${url}/teleconsultation/000000000000000000000000`, { headers: as('someone') })).status, 404)
  t.same(undici(), [], 'not loaded by requests the store answers')
  const created = await httpCall(`${url}/teleconsultation`, { method: 'POST', json: body() })
  t.equal(created.status, 201, 'the first Kaleyra calls (users, room) go out')
  t.ok(undici().length > 0, 'loaded for them')
  t.equal(emulator.liveRooms().length, 1)
})
