import { readFileSync } from 'node:fs'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { createMemoryStores } from '../../src/store/memory.js'
import { setup } from '../helpers/app.js'
import { as, body, HOUR, isoFromNow } from '../helpers/fixtures.js'
import { parsePrometheus, hasSample, sampleValue, type Sample } from '../helpers/prometheus.js'
import { faultyStores } from '../helpers/store-faults.js'
import { startFakeIdentity } from '../identity/fixtures/fake-identity.js'

async function scrape (app: FastifyInstance): Promise<Sample[]> {
  const res = await app.inject({ method: 'GET', url: '/-/metrics' })
  if (res.statusCode !== 200) throw new Error(`/-/metrics answered ${res.statusCode}`)
  return parsePrometheus(res.body)
}

t.test('GET /-/metrics is Prometheus text with process and route metrics', async t => {
  const { app, logs } = await setup(t)
  await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  await app.inject({ method: 'GET', url: '/no/such/route' })
  const res = await app.inject({ method: 'GET', url: '/-/metrics' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  const samples = parsePrometheus(res.body)
  for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
    t.ok(hasSample(samples, name), `process metric ${name}`)
  }
  t.equal(sampleValue(samples, 'http_request_duration_seconds_count', { method: 'POST', route: '/teleconsultation', status_code: '201' }), 1,
    'route histogram, labelled by route pattern and status')
  t.ok(hasSample(samples, 'http_request_summary_seconds', { route: '/teleconsultation', quantile: '0.99' }), 'route summary')
  t.notOk(samples.some(s => s.labels.route === '/no/such/route'), 'unknown URLs do not create series')
  t.notOk(logs.records().some(r => (r.url as { path?: string } | undefined)?.path === '/-/metrics'), 'scrapes are not logged')
})

t.test('upstream calls are measured by target, operation and status class, retries counted', async t => {
  const { app, emulator } = await setup(t)
  const created = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  const id: string = created.json().roomId
  emulator.faults.add({ method: 'GET', path: '/v2/rooms/', kind: 'status', status: 500, times: 1 })
  t.equal((await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('doctor-1') })).statusCode, 200)

  const samples = await scrape(app)
  const kaleyra = (operation: string, statusClass: string) => ({ target: 'kaleyra', operation, status_class: statusClass })
  t.equal(sampleValue(samples, 'upstream_requests_total', kaleyra('createUser', '2xx')), 2, 'two users created')
  t.equal(sampleValue(samples, 'upstream_requests_total', kaleyra('createRoom', '2xx')), 1)
  t.equal(sampleValue(samples, 'upstream_request_duration_seconds_count', kaleyra('createRoom', '2xx')), 1, 'histogram with the same labels')
  t.ok(hasSample(samples, 'upstream_request_duration_seconds_bucket', { ...kaleyra('createRoom', '2xx'), le: '0.1' }), 'with buckets')
  t.equal(sampleValue(samples, 'upstream_requests_total', kaleyra('getRoom', '5xx')), 1, 'the failed attempt')
  t.equal(sampleValue(samples, 'upstream_requests_total', kaleyra('getRoom', '2xx')), 1, 'and its retry')
  t.equal(sampleValue(samples, 'upstream_request_retries_total', { target: 'kaleyra', operation: 'getRoom' }), 1)
})

t.test('calls to the CRUD Service and the identity service are measured too, under their own target', async t => {
  const identity = await startFakeIdentity()
  t.teardown(() => identity.close())
  identity.users.set('doctor-1', { user_id: 'doctor-1', name: 'Dr. Joe Smith', groups: ['doctor'] })
  identity.users.set('patient-1', { user_id: 'patient-1', name: 'Jane Doe', groups: ['patient'] })
  const { app } = await setup(t, { store: 'crud', env: { AUTH_SERVICE: identity.host, STATUS_CHECK_CACHE_MS: '0' } })
  const created = await app.inject({ method: 'POST', url: '/teleconsultation', payload: { participants: ['doctor-1', 'patient-1'], start_date: isoFromNow(HOUR), duration_in_seconds: 600 } })
  t.equal(created.statusCode, 201)
  t.equal((await app.inject({ method: 'GET', url: '/-/ready' })).statusCode, 200)

  const samples = await scrape(app)
  const calls = (target: string, operation: string) => sampleValue(samples, 'upstream_requests_total', { target, operation, status_class: '2xx' })
  t.equal(calls('identity', 'getUser'), 2, 'one identity lookup per participant')
  t.equal(calls('crud', 'teleconsultations.insert'), 1, 'the teleconsultation stored')
  t.ok(calls('crud', 'userMap.list') >= 2, 'the user-id map searched for each participant')
  t.equal(calls('crud', 'teleconsultations.ping'), 1, 'readiness pings are labelled as such')
  t.equal(sampleValue(samples, 'upstream_request_duration_seconds_count', { target: 'crud', operation: 'teleconsultations.insert', status_class: '2xx' }), 1, 'with durations')
  t.equal(sampleValue(samples, 'upstream_request_duration_seconds_count', { target: 'identity', operation: 'getUser', status_class: '2xx' }), 2)
})

t.test('the teleconsultation lifecycle is counted: created, rooms created, replaced, deleted, compensations', async t => {
  const faulty = faultyStores(createMemoryStores())
  const { app } = await setup(t, { stores: faulty.stores })
  const created = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ start: isoFromNow(HOUR) }) })
  const id: string = created.json().roomId
  const moved = await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { start_date: isoFromNow(2 * HOUR), duration_in_seconds: 600 } })
  t.equal(moved.statusCode, 204, 'the room was replaced')
  faulty.failNext('insert')
  t.equal((await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })).statusCode, 502, 'the record could not be stored')
  t.equal((await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}` })).statusCode, 204)

  const samples = await scrape(app)
  t.equal(sampleValue(samples, 'teleconsultations_created_total'), 1)
  t.equal(sampleValue(samples, 'teleconsultation_rooms_created_total'), 3, 'first room, its replacement, the compensated one')
  t.equal(sampleValue(samples, 'teleconsultation_rooms_replaced_total'), 1)
  t.equal(sampleValue(samples, 'teleconsultation_compensations_total'), 1)
  t.equal(sampleValue(samples, 'teleconsultation_rooms_deleted_total'), 3, 'the replaced room, the compensated one, the deleted teleconsultation\'s')
})

t.test('every app has its own registry: apps built side by side do not share counts', async t => {
  const first = await setup(t)
  const second = await setup(t, { emulator: first.emulator })
  await first.app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  t.equal(sampleValue(await scrape(first.app), 'teleconsultations_created_total'), 1)
  t.equal(sampleValue(await scrape(second.app), 'teleconsultations_created_total'), 0)
  t.equal(sampleValue(await scrape(second.app), 'http_request_duration_seconds_count', { route: '/teleconsultation' }), 0)
})

t.test('probes, scrapes and the documentation are not measured, as with lc39', async t => {
  const { app } = await setup(t, { env: { SERVICE_PREFIX: '/api' } })
  const platform = ['/-/healthz', '/-/ready', '/-/check-up', '/-/metrics', '/documentation/json', '/documentation/static/index.html']
  for (let i = 0; i < 100; i++) {
    const res = await app.inject({ method: 'GET', url: platform[i % platform.length] })
    t.ok(res.statusCode < 400, `${platform[i % platform.length]} answered`)
  }
  await app.inject({ method: 'POST', url: '/api/teleconsultation', payload: body() })
  const samples = await scrape(app)
  const routes = new Set(samples.filter(s => s.name.startsWith('http_request_')).map(s => s.labels.route))
  t.same([...routes], ['/api/teleconsultation'], 'only the API request has series')
  for (const name of ['http_request_duration_seconds_count', 'http_request_summary_seconds_count']) {
    t.notOk(samples.some(s => s.name === name && /^\/(-|documentation)/.test(s.labels.route)), `${name}: no series for /-/* or /documentation*`)
  }
})

t.test('the summary exports the quantiles docs/operations.md lists', async t => {
  const { app } = await setup(t)
  await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  const quantiles = (await scrape(app)).filter(s => s.name === 'http_request_summary_seconds').map(s => s.labels.quantile)
  const documented = /`http_request_summary_seconds` \| summary \| same \| quantiles ([\d., ]+)\|/.exec(readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8'))
  t.ok(documented, 'docs/operations.md lists them')
  t.same(quantiles, documented?.[1].split(',').map(q => q.trim()).filter(q => q !== ''))
})

t.test('EXPOSE_METRICS=false hides /-/metrics; the routes are still served', async t => {
  const { app } = await setup(t, { env: { EXPOSE_METRICS: 'false' } })
  t.equal((await app.inject({ method: 'GET', url: '/-/metrics' })).statusCode, 404)
  t.equal((await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })).statusCode, 201)
  t.equal((await app.inject({ method: 'GET', url: '/-/healthz' })).statusCode, 200)
})
