import t from 'tap'
import { StoreConflictError } from '../../src/store/errors.js'
import { createMemoryStores } from '../../src/store/memory.js'
import { KALEYRA_FAULT_TIMEOUT, setup } from '../helpers/app.js'
import { as, body, HOUR, isoFromNow } from '../helpers/fixtures.js'
import { faultyStores } from '../helpers/store-faults.js'
import { waitFor } from '../helpers/wait.js'

t.test('one `request completed` line per request, with the platform\'s ECS-style fields', async t => {
  const { app, logs } = await setup(t)
  const res = await app.inject({
    method: 'POST',
    url: '/teleconsultation',
    payload: body(),
    headers: { 'x-request-id': 'req-42', 'user-agent': 'appointment-manager/2.6', 'x-forwarded-for': '10.1.2.3', 'x-forwarded-host': 'clinic.example' }
  })
  t.equal(res.statusCode, 201)
  const id: string = res.json().roomId
  await app.inject({ method: 'GET', url: `/teleconsultation/${id}?language=it&useBackground=true`, headers: { ...as('doctor-1'), 'x-request-id': 'req-43' } })
  t.equal((await app.inject({ method: 'GET', url: '/no/such/route?token=abc123', headers: { 'x-request-id': 'req-44' } })).statusCode, 404)

  const records = logs.records()
  for (const record of records) {
    t.equal(typeof record.level, 'number', 'numeric levels')
    t.ok(typeof record.time === 'number' && record.time > 1e12, 'epoch milliseconds')
  }
  const completed = records.filter(r => r.msg === 'request completed')
  t.equal(completed.length, 3, 'exactly one line per request')
  t.match(completed[0], {
    level: 30,
    reqId: 'req-42',
    http: { request: { method: 'POST', userAgent: { original: 'appointment-manager/2.6' } }, response: { statusCode: 201, body: { bytes: Number } } },
    url: { path: '/teleconsultation' },
    host: { hostname: 'localhost', forwardedHost: 'clinic.example', ip: '10.1.2.3' },
    responseTime: Number
  })
  t.match(completed[1], { reqId: 'req-43', url: { path: `/teleconsultation/${id}`, params: { id } }, http: { response: { statusCode: 200 } } })
  t.match(completed[2], { reqId: 'req-44', url: { path: '/no/such/route' }, http: { response: { statusCode: 404 } } })
  t.same(records.filter(r => r.reqId === 'req-44').length, 1, 'an unknown route gives that line only')
  t.notOk(logs.lines.join('\n').includes('useBackground') || logs.lines.join('\n').includes('abc123'), 'query strings are not logged')
  t.ok(records.filter(r => r.reqId === 'req-42').length >= 1, 'the request id from x-request-id tags the request\'s lines')
})

t.test('probes and metric scrapes are not logged below error', async t => {
  const { app, logs } = await setup(t, { env: { LOG_LEVEL: 'trace' } })
  for (const url of ['/-/healthz', '/-/ready', '/-/check-up', '/-/metrics']) {
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url)
  }
  await app.inject({ method: 'GET', url: '/documentation/json' })
  const paths = logs.records().map(r => (r.url as { path?: string } | undefined)?.path).filter(p => p !== undefined)
  t.same(paths.filter(p => p.startsWith('/-/')), [], 'no request line for /-/ routes, even at trace')
  t.ok(paths.includes('/documentation/json'), 'other routes are logged (incoming at trace, completed at info)')
  t.same(logs.records().filter(r => r.msg === 'incoming request').map(r => r.level), [10], 'incoming request is a trace line')
})

t.test('no secret, personal data or access link reaches the logs in a full scenario, failures included', async t => {
  const faulty = faultyStores(createMemoryStores())
  // The scenario includes a Kaleyra hang, which must time out.
  const { app, emulator, logs } = await setup(t, { stores: faulty.stores, env: { LOG_LEVEL: 'trace', ...KALEYRA_FAULT_TIMEOUT } })
  const secretCookie = 'session=very-secret-cookie'
  const secretAuth = 'Bearer very-secret-token'
  const headers = { ...as('Dr-Secret-Name', ['doctor']), cookie: secretCookie, authorization: secretAuth, 'x-request-id': 'scenario' }
  const names = ['Gregory House Secret', 'Lisa Cuddy Secret', 'James Wilson Secret', 'Unknown Group Secret', 'Malformed Body Secret']
  const participants = [
    { userId: 'Dr-Secret-Name', groups: ['doctor'], fullName: names[0], language: 'it' },
    { userId: 'patient-x', groups: ['patient'], fullName: names[1] }
  ]
  const payload = body({ participants, start: isoFromNow(HOUR) })
  const send = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, json?: unknown) =>
    await app.inject({
      method,
      url,
      headers,
      ...(json === undefined ? {} : { payload: json as Record<string, unknown> })
    })

  // the happy path: create, read (with query options), replace the room, rename, legacy route
  const id: string = (await send('POST', '/teleconsultation', payload)).json().roomId
  await send('GET', `/teleconsultation/${id}?language=it&useBackground=true`)
  await send('PATCH', `/teleconsultation/${id}`, { start_date: isoFromNow(2 * HOUR), duration_in_seconds: 900 })
  await send('PATCH', `/teleconsultation/${id}`, { participants: { number: 2, data: [participants[0], { ...participants[1], fullName: 'Renamed Secret' }] } })
  const partial: string = (await send('POST', '/teleconsultation', body({ participants: [participants[0]], number: 2 }))).json().roomId
  await send('POST', `/teleconsultation/${partial}/participants/data`, { userExternalId: 'wilson', groups: ['patient'], fullName: names[2] })
  await send('GET', `/teleconsultation/${partial}`)

  // refused inputs that carry names
  await send('POST', '/teleconsultation', { ...payload, participants: { number: 2, data: [{ userId: 'n', groups: ['x'], fullName: names[3] }] } })
  await send('POST', '/teleconsultation', { ...payload, participants: { number: 2, data: [{ userId: 'n', groups: 'doctor', fullName: names[4] }] } })

  // failures: Kaleyra 5xx, reset and timeout, the store down, a compensated room
  emulator.faults.add({ kind: 'status', status: 500 })
  await send('PATCH', `/teleconsultation/${id}`, { start_date: isoFromNow(3 * HOUR), duration_in_seconds: 600 })
  emulator.faults.clear()
  emulator.faults.add({ kind: 'reset', times: 3 })
  await send('GET', `/teleconsultation/${id}`)
  emulator.faults.clear()
  faulty.failNext('insert')
  await send('POST', '/teleconsultation', payload)
  faulty.failNext('get')
  await send('GET', `/teleconsultation/${id}`)
  emulator.faults.add({ kind: 'hang' })
  await send('DELETE', `/teleconsultation/${id}`)
  emulator.faults.clear()
  await send('DELETE', `/teleconsultation/${id}`)

  t.ok(logs.lines.length > 30, `the scenario was logged (${logs.lines.length} lines)`)
  const all = logs.lines.join('\n')
  const secrets = [emulator.apiKey, 'very-secret-cookie', 'very-secret-token', ...names, 'Renamed Secret', '/join/']
  for (const secret of secrets) t.notOk(all.includes(secret), `"${secret}" is not logged`)
  const records = logs.records()
  t.ok(records.some(r => r.msg === 'upstream call failed'), 'upstream failures are logged')
  t.ok(records.some(r => r.msg === 'request completed' && (r.http as { response: { statusCode: number } }).response.statusCode === 504), 'the timeout too')
  t.ok(records.every(r => r.reqId === undefined || r.reqId === 'scenario'), 'every request line carries the caller\'s request id')
})

t.test('the domain\'s lines during a PATCH that replaces the room carry the request\'s reqId, background retries included', async t => {
  const stores = createMemoryStores()
  const { app, emulator, logs } = await setup(t, { stores })
  const id: string = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ start: isoFromNow(HOUR) }) })).json().roomId
  const [oldRoom] = emulator.liveRooms()

  // Another writer wins the first attempt; the first room deletion fails on every attempt of the request.
  const update = stores.teleconsultations.update.bind(stores.teleconsultations)
  let conflicts = 1
  stores.teleconsultations.update = async (...args) => {
    if (conflicts-- > 0) throw new StoreConflictError(args[0])
    return await update(...args)
  }
  emulator.faults.add({ method: 'DELETE', path: '/v2/rooms/', kind: 'status', status: 503, times: 3 })
  const res = await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { duration_in_seconds: 900 }, headers: { 'x-request-id': 'req-replace' } })
  t.equal(res.statusCode, 204)
  const deleted = (): number => logs.records().filter(r => r.msg === 'stale Kaleyra room deleted').length
  await waitFor('the given-up room and the replaced one to be deleted', () => deleted() === 2)

  const [newRoom] = emulator.liveRooms()
  t.equal(emulator.liveRooms().length, 1, 'one live room')
  const mine = logs.records().filter(r => r.reqId === 'req-replace')
  const lines = (msg: string): Array<Record<string, unknown>> => mine.filter(r => r.msg === msg)
  t.equal(lines('Kaleyra room created').length, 2, 'both rooms the request created')
  t.equal(lines('concurrent update detected, retrying').length, 1)
  t.match(lines('Kaleyra room replaced'), [{ teleconsultationId: id, roomId: newRoom.roomId, replacedRoomId: oldRoom.roomId }])
  t.ok(lines('stale Kaleyra room could not be deleted yet').length >= 1, 'the failed deletion')
  t.equal(lines('stale Kaleyra room deleted').length, 2, 'the deletions, the background retry too')
  t.ok(lines('stale Kaleyra room deleted').some(r => r.roomId === oldRoom.roomId && r.teleconsultationId === id))
  const domain = ['Kaleyra room created', 'concurrent update detected, retrying', 'Kaleyra room replaced', 'stale Kaleyra room could not be deleted yet', 'stale Kaleyra room deleted']
  const untagged = logs.records().filter(r => domain.includes(String(r.msg)) && r.reqId !== 'req-replace')
  t.same(untagged.map(r => r.msg), ['Kaleyra room created'], 'only the POST\'s room creation carries another reqId')
})
