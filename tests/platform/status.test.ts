import t from 'tap'
import { startKaleyraEmulator } from '../../src/emulator/index.js'
import { readPackage } from '../../src/lib/package-info.js'
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

t.test('Kaleyra going away: /-/check-up turns 503 naming it, /-/ready and /-/healthz stay 200', async t => {
  const { app, emulator } = await setup(t, { env: uncached })
  const get = async (url: string) => await app.inject({ method: 'GET', url })
  t.equal((await get('/-/check-up')).statusCode, 200)

  await emulator.close()
  await waitFor('check-up to turn 503', async () => (await get('/-/check-up')).statusCode === 503)
  t.same((await get('/-/check-up')).json(), { status: 'KO', name, version, message: 'Kaleyra: unreachable' })
  t.same((await get('/-/ready')).json(), { status: 'OK', name, version }, 'this replica can still serve: it stays in the load balancer')
  t.equal((await get('/-/healthz')).statusCode, 200, 'the process is still alive')

  const port = Number(new URL(emulator.url).port)
  const back = await startKaleyraEmulator({ apiKey: emulator.apiKey, port })
  t.teardown(() => back.close())
  await waitFor('check-up to turn 200 again', async () => (await get('/-/check-up')).statusCode === 200)
  t.same((await get('/-/check-up')).json(), { status: 'OK', name, version })
})

t.test('with Kaleyra failing every call, /-/ready stays 200 and /-/check-up answers 503 naming Kaleyra; cached polls still work', async t => {
  const { app, emulator } = await setup(t, { env: { STATUS_CHECK_CACHE_MS: '0' } })
  const created = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  const id: string = created.json().roomId
  emulator.faults.add({ kind: 'status', status: 500 })
  for (let i = 0; i < 20; i++) {
    t.equal((await app.inject({ method: 'GET', url: '/-/ready' })).statusCode, 200, `ready probe ${i}`)
  }
  const checkUp = await app.inject({ method: 'GET', url: '/-/check-up' })
  t.equal(checkUp.statusCode, 503)
  t.same(checkUp.json(), { status: 'KO', name, version, message: 'Kaleyra: answered 500' })
  const poll = await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('doctor-1') })
  t.equal(poll.statusCode, 200, 'a poll needs no Kaleyra call to give the link')
  t.equal((await app.inject({ method: 'GET', url: '/teleconsultation/000000000000000000000000', headers: as('doctor-1') })).statusCode, 404)
})

t.test('a hanging, failing or refusing Kaleyra is reported by /-/check-up within the check deadline', async t => {
  const { app, emulator, logs } = await setup(t, { env: uncached })
  const checkUp = async (to = app) => (await to.inject({ method: 'GET', url: '/-/check-up' })).json()

  t.match(await checkUp(), { status: 'OK' })
  emulator.faults.add({ path: '/v2/company', kind: 'status', status: 503, times: 1 })
  t.match(await checkUp(), { status: 'KO', message: 'Kaleyra: answered 503' })
  emulator.faults.add({ path: '/v2/company', kind: 'status', status: 429, times: 1 })
  t.match(await checkUp(), { status: 'OK' }, 'rate limited is still reachable')

  // Kaleyra not answering needs a short deadline: an instance of its own, on the same Kaleyra.
  const hanging = await setup(t, { emulator, env: impatient })
  emulator.faults.add({ path: '/v2/company', kind: 'hang', times: 1 })
  t.same(await checkUp(hanging.app), { status: 'KO', name, version, message: `Kaleyra: no answer within ${FAULT_TIMEOUT_MS} ms` })

  const wrongKey = await setup(t, { env: { ...uncached, BANDYER_API_SECRET_KEY: 'ak_wrong' } })
  t.match((await wrongKey.app.inject({ method: 'GET', url: '/-/check-up' })).json(), { status: 'KO', message: 'Kaleyra: API key refused (401)' })
  t.equal((await wrongKey.app.inject({ method: 'GET', url: '/-/ready' })).statusCode, 200, 'a wrong key is a configuration problem of every replica alike: check-up shows it')

  const transitions = logs.records().filter(r => /^Kaleyra (reachable|unavailable)$/.test(String(r.msg)))
  t.same(transitions.map(r => r.msg), ['Kaleyra reachable', 'Kaleyra unavailable', 'Kaleyra reachable'],
    'changes are logged once each, not every probe')
  t.equal(transitions[1].level, 40, 'going down is a warning')
})

t.test('an unavailable store makes the replica not ready, and check-up agrees', async t => {
  const stores = createMemoryStores()
  let teleconsultationsDown = false
  let userMapHangs = false
  stores.teleconsultations.ping = async () => { if (teleconsultationsDown) throw new Error('ECONNREFUSED') }
  stores.userMap.ping = async () => { if (userMapHangs) await new Promise(() => {}) }
  // The user-id map hangs: the deadline is short. Kaleyra answers well within it.
  const { app, logs } = await setup(t, { stores, env: impatient })
  const get = async (url: string) => await app.inject({ method: 'GET', url })

  t.equal((await get('/-/ready')).statusCode, 200)
  teleconsultationsDown = true
  userMapHangs = true
  const message = `teleconsultation store: unavailable; user-id map store: no answer within ${FAULT_TIMEOUT_MS} ms`
  for (const url of ['/-/ready', '/-/check-up']) {
    const res = await get(url)
    t.equal(res.statusCode, 503, url)
    t.equal(res.json().message, message, `${url}: every failing dependency is named`)
  }
  t.same(logs.records().filter(r => /^dependencies /.test(String(r.msg))).map(r => [r.level, r.msg]),
    [[30, 'dependencies reachable: ready'], [40, 'dependencies unavailable: not ready']], 'each change logged once')
})

t.test('with the CRUD Service down, /-/ready and /-/check-up both answer 503', async t => {
  const { app, crud } = await setup(t, { store: 'crud', env: impatient })
  t.equal((await app.inject({ method: 'GET', url: '/-/ready' })).statusCode, 200)
  await crud?.close()
  for (const url of ['/-/ready', '/-/check-up']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 503, url)
    t.match(res.json(), { status: 'KO', message: /^teleconsultation store: unavailable; user-id map store: unavailable$/ }, url)
  }
})

t.test('each KO probe answer is logged at error as lc39 does, at most once per 10 s per route and dependency', async t => {
  let clock = Date.now()
  const { app, emulator, logs } = await setup(t, { env: uncached, overrides: { now: () => clock } })
  emulator.faults.add({ path: '/v2/company', kind: 'status', status: 500 })
  const notOk = () => logs.records().filter(r => r.msg === 'Service status is not ok')
  for (let i = 0; i < 30; i++) t.equal((await app.inject({ method: 'GET', url: '/-/check-up' })).statusCode, 503)
  t.equal(notOk().length, 1, 'thirty failing probes, one line')
  t.match(notOk()[0], { level: 50, route: '/-/check-up', dependencies: ['Kaleyra'], debugInfo: { status: 'KO', message: 'Kaleyra: answered 500' } })
  t.notOk(JSON.stringify(notOk()[0]).includes(emulator.apiKey), 'no API key in the line')

  clock += 9_999
  await app.inject({ method: 'GET', url: '/-/check-up' })
  t.equal(notOk().length, 1, 'still quiet just before 10 s')
  clock += 1
  await app.inject({ method: 'GET', url: '/-/check-up' })
  t.equal(notOk().length, 2, 'then logged again')

  t.equal((await app.inject({ method: 'GET', url: '/-/ready' })).statusCode, 200)
  t.equal(notOk().length, 2, 'an OK probe logs nothing')
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
  t.equal((await app.inject({ method: 'GET', url: '/-/check-up' })).statusCode, 200)
  t.equal(pings(), 1, 'still the cached result just before STATUS_CHECK_CACHE_MS')
  clock += 1
  t.equal((await app.inject({ method: 'GET', url: '/-/check-up' })).statusCode, 200)
  t.equal(pings(), 2, 'then Kaleyra is asked again')
  clock += 10_000
  t.equal((await app.inject({ method: 'GET', url: '/-/ready' })).statusCode, 200)
  t.equal(pings(), 2, '/-/ready never asks Kaleyra')
})

t.test('once shutdown begins, readiness answers 503 for good while liveness stays 200', async t => {
  const { app, services, logs } = await setup(t)
  services.readiness.beginShutdown()
  for (const url of ['/-/ready', '/-/check-up']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 503, url)
    t.same(res.json(), { status: 'KO', name, version, message: 'shutting down' })
  }
  t.equal((await app.inject({ method: 'GET', url: '/-/healthz' })).statusCode, 200)
  t.notOk(logs.records().some(r => r.msg === 'Service status is not ok'), 'an expected shutdown is no error')
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
