import t from 'tap'
import { startKaleyraEmulator } from '../../src/emulator/index.js'
import { readPackage } from '../../src/platform/package-info.js'
import { createMemoryStores } from '../../src/store/memory.js'
import { FAULT_TIMEOUT_MS, setup } from '../helpers/app.js'
import { as, body } from '../helpers/fixtures.js'
import { waitFor } from '../helpers/wait.js'

const { name, version } = readPackage()
/** Every probe checks again. */
const uncached = { STATUS_CHECK_CACHE_MS: '0' }
/** Every probe checks again, and a dependency that does not answer is given up on quickly. */
const impatient = { ...uncached, STATUS_CHECK_TIMEOUT_MS: String(FAULT_TIMEOUT_MS) }

t.test('the three status routes answer the lc39 way and stay out of OpenAPI', async t => {
  const { app } = await setup(t)
  for (const url of ['/-/healthz', '/-/ready', '/-/check-up']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 200, url)
    t.match(res.headers['content-type'], /^application\/json/)
    t.same(res.json(), { status: 'OK', name, version }, `${url} body`)
  }
  const spec = (await app.inject({ method: 'GET', url: '/documentation/json' })).json()
  t.same(Object.keys(spec.paths).filter((path: string) => path.startsWith('/-/')), [], 'no status or metrics route in OpenAPI')
})

t.test('/-/ready turns 503 when Kaleyra goes away and 200 when it is back; /-/healthz stays 200', async t => {
  const { app, emulator } = await setup(t, { env: uncached })
  const get = async (url: string) => await app.inject({ method: 'GET', url })
  t.equal((await get('/-/ready')).statusCode, 200)

  await emulator.close()
  await waitFor('ready to turn 503', async () => (await get('/-/ready')).statusCode === 503)
  const down = await get('/-/ready')
  t.same(down.json(), { status: 'KO', name, version, message: 'Kaleyra: unreachable' })
  t.equal((await get('/-/check-up')).statusCode, 503, 'check-up agrees')
  t.equal((await get('/-/healthz')).statusCode, 200, 'the process is still alive')

  const port = Number(new URL(emulator.url).port)
  const back = await startKaleyraEmulator({ apiKey: emulator.apiKey, port })
  t.teardown(() => back.close())
  await waitFor('ready to turn 200 again', async () => (await get('/-/ready')).statusCode === 200)
  t.same((await get('/-/check-up')).json(), { status: 'OK', name, version })
})

t.test('a hanging, failing or refusing Kaleyra makes the service not ready, within the check deadline', async t => {
  const { app, emulator, logs } = await setup(t, { env: uncached })
  const ready = async (to = app) => (await to.inject({ method: 'GET', url: '/-/ready' })).json()

  t.match(await ready(), { status: 'OK' })
  emulator.faults.add({ path: '/v2/company', kind: 'status', status: 503, times: 1 })
  t.match(await ready(), { status: 'KO', message: 'Kaleyra: answered 503' })
  emulator.faults.add({ path: '/v2/company', kind: 'status', status: 429, times: 1 })
  t.match(await ready(), { status: 'OK' }, 'rate limited is still reachable')

  // Kaleyra not answering needs a short deadline: an instance of its own, on the same Kaleyra.
  const hanging = await setup(t, { emulator, env: impatient })
  emulator.faults.add({ path: '/v2/company', kind: 'hang', times: 1 })
  t.same(await ready(hanging.app), { status: 'KO', name, version, message: `Kaleyra: no answer within ${FAULT_TIMEOUT_MS} ms` })

  const wrongKey = await setup(t, { env: { ...uncached, BANDYER_API_SECRET_KEY: 'ak_wrong' } })
  t.match((await wrongKey.app.inject({ method: 'GET', url: '/-/ready' })).json(), { status: 'KO', message: 'Kaleyra: API key refused (401)' })

  const transitions = logs.records().filter(r => /^dependencies /.test(String(r.msg)))
  t.same(transitions.map(r => r.msg), ['dependencies reachable: ready', 'dependencies unavailable: not ready', 'dependencies reachable: ready'],
    'changes are logged once each, not every probe')
  t.equal(transitions[1].level, 40, 'going down is a warning')
})

t.test('an unavailable store makes the service not ready', async t => {
  const stores = createMemoryStores()
  let teleconsultationsDown = false
  let userMapHangs = false
  stores.teleconsultations.ping = async () => { if (teleconsultationsDown) throw new Error('ECONNREFUSED') }
  stores.userMap.ping = async () => { if (userMapHangs) await new Promise(() => {}) }
  // The user-id map hangs: the deadline is short. Kaleyra answers well within it.
  const { app } = await setup(t, { stores, env: impatient })
  const ready = async () => await app.inject({ method: 'GET', url: '/-/ready' })

  t.equal((await ready()).statusCode, 200)
  teleconsultationsDown = true
  userMapHangs = true
  const res = await ready()
  t.equal(res.statusCode, 503)
  t.equal(res.json().message, `teleconsultation store: unavailable; user-id map store: no answer within ${FAULT_TIMEOUT_MS} ms`, 'every failing dependency is named')
})

t.test('results are cached and concurrent probes share one check, so probes cannot hammer Kaleyra', async t => {
  // The service's clock stands still unless the test moves it: the probes are one burst, however slow the machine.
  let clock = Date.now()
  const { app, emulator } = await setup(t, { env: { STATUS_CHECK_CACHE_MS: '5000' }, overrides: { now: () => clock } })
  const pings = () => emulator.requests().filter(r => r.path === '/v2/company').length
  const answers = await Promise.all(Array.from({ length: 5 }, async () => await app.inject({ method: 'GET', url: '/-/ready' })))
  for (let i = 0; i < 5; i++) answers.push(await app.inject({ method: 'GET', url: i % 2 === 0 ? '/-/ready' : '/-/check-up' }))
  t.ok(answers.every(res => res.statusCode === 200))
  t.equal(pings(), 1, 'ten probes, one Kaleyra call')
  clock += 4_999
  t.equal((await app.inject({ method: 'GET', url: '/-/ready' })).statusCode, 200)
  t.equal(pings(), 1, 'still the cached result just before STATUS_CHECK_CACHE_MS')
  clock += 1
  t.equal((await app.inject({ method: 'GET', url: '/-/ready' })).statusCode, 200)
  t.equal(pings(), 2, 'then Kaleyra is asked again')
})

t.test('once shutdown begins, readiness answers 503 for good while liveness stays 200', async t => {
  const { app, services } = await setup(t)
  services.readiness.beginShutdown()
  for (const url of ['/-/ready', '/-/check-up']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 503, url)
    t.same(res.json(), { status: 'KO', name, version, message: 'shutting down' })
  }
  t.equal((await app.inject({ method: 'GET', url: '/-/healthz' })).statusCode, 200)
  const created = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body(), headers: as('doctor-1') })
  t.equal(created.statusCode, 201, 'requests that still arrive are served')
})

t.test('SERVICE_PREFIX moves the API routes, never the status and documentation routes', async t => {
  for (const prefix of ['/telecons-be', '/telecons-be/']) {
    const { app } = await setup(t, { env: { SERVICE_PREFIX: prefix } })
    const created = await app.inject({ method: 'POST', url: '/telecons-be/teleconsultation', payload: body() })
    t.equal(created.statusCode, 201, `${prefix}: the API is under the prefix`)
    const id: string = created.json().roomId
    t.equal((await app.inject({ method: 'GET', url: `/telecons-be/teleconsultation/${id}`, headers: as('doctor-1') })).statusCode, 200)
    t.equal((await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })).statusCode, 404, 'and not at the root')
    for (const url of ['/-/healthz', '/-/ready', '/-/check-up', '/-/metrics', '/documentation/json']) {
      t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, `${url} stays at the root`)
      t.equal((await app.inject({ method: 'GET', url: `/telecons-be${url}` })).statusCode, 404, `${url} is not under the prefix`)
    }
    const spec = (await app.inject({ method: 'GET', url: '/documentation/json' })).json()
    t.ok(spec.paths['/telecons-be/teleconsultation'], 'OpenAPI shows the prefixed paths')
  }
})
