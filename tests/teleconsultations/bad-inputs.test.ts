import t from 'tap'
import { eachStore, setup, storesOf } from '../helpers/app.js'
import { as, body, doctor, HOUR, isoFromNow, patient } from '../helpers/fixtures.js'
import { faultyStores, type StoreMethod } from '../helpers/store-faults.js'

interface BadInput {
  name: string
  method: 'POST' | 'PATCH' | 'GET' | 'DELETE'
  /** `:id` is replaced by an existing teleconsultation. */
  url: string
  payload?: unknown
  raw?: string
  headers?: Record<string, string>
  status: number
  message: RegExp
}

const post = (name: string, payload: unknown, message: RegExp, status = 400): BadInput => ({ name, method: 'POST', url: '/teleconsultation', payload, status, message })
const patch = (name: string, payload: unknown, message: RegExp, status = 400): BadInput => ({ name, method: 'PATCH', url: '/teleconsultation/:id', payload, status, message })
const start = isoFromNow(HOUR)
const many = Array.from({ length: 26 }, (_, i) => patient(`p${i}`))

const cases: BadInput[] = [
  post('missing participants', { start_date: start, duration_in_seconds: 3600 }, /body must have required property 'participants'/),
  post('participants is a string', { ...body(), participants: 'doctor-1' }, /body\.participants must be array or object/),
  post('participants.number is not an integer', { ...body(), participants: { number: 'two', data: [] } }, /body\.participants\.number must be integer/),
  post('participants.data is not an array', { ...body(), participants: { number: 2, data: {} } }, /body\.participants\.data must be array/),
  post('participants as ids without an identity provider', { ...body(), participants: ['doctor-1', 'patient-1'] }, /need an identity provider/),
  post('a participant without userId', body({ participants: [doctor(), { groups: ['patient'], fullName: 'No Id' } as never] }), /participant 1 needs a userId/),
  post('empty userId', body({ participants: [doctor(), { ...patient(), userId: '' }] }), /userId must NOT have fewer than 1 characters/),
  post('blank userId', body({ participants: [doctor(), { ...patient(), userId: '   ' }] }), /body\.participants\.data\.1\.userId must match pattern/),
  post('userId with a NUL', body({ participants: [doctor(), { ...patient(), userId: 'p\u0000' }] }), /body\.participants\.data\.1\.userId must match pattern/),
  post('userId with CR LF', body({ participants: [doctor(), { ...patient(), userId: 'p\r\nx' }] }), /body\.participants\.data\.1\.userId must match pattern/),
  post('fullName with a LF', body({ participants: [doctor(), { ...patient(), fullName: 'Jane\nDoe' }] }), /body\.participants\.data\.1\.fullName must match pattern/),
  post('groups is not an array', body({ participants: [doctor(), { ...patient(), groups: 'patient' as never }] }), /groups must be array/),
  post('unknown group', body({ participants: [doctor(), { ...patient(), groups: ['visitor'] }] }), /no group listed in the service privileges \(groups: visitor\)/),
  post('missing groups in header mode', body({ participants: [doctor(), { userId: 'x', fullName: 'X' }] }), /needs groups when no identity provider/),
  post('missing fullName in header mode', body({ participants: [doctor(), { userId: 'x', groups: ['patient'] }] }), /needs fullName when no identity provider/),
  post('the same participant twice', body({ participants: [doctor(), doctor()] }), /doctor-1 is listed more than once/),
  post('different userId and userExternalId', body({ participants: [doctor(), { ...patient(), userExternalId: 'other' } as never] }), /different userId and userExternalId/),
  post('more participants than announced', body({ participants: [doctor(), patient('a'), patient('b')], number: 2 }), /more participants than the expected number/),
  post('fewer than 2 participants expected', body({ participants: [doctor()], number: 1 }), /at least 2 participants/),
  post('more than 25 participants', body({ participants: [doctor(), ...many] }), /body\.participants\.data must NOT have more than 25 items|at most 25 participants/),
  post('more than 25 expected', body({ participants: [doctor()], number: 30 }), /at most 25 participants/),
  post('missing start_date', { participants: body().participants, duration_in_seconds: 3600 }, /body must have required property 'start_date'/),
  post('start_date is not a date', { ...body(), start_date: 'tomorrow' }, /body\.start_date must match format "date-time"/),
  post('start_date is an impossible date', { ...body(), start_date: '2030-02-30T10:00:00.000Z' }, /body\.start_date must match format "date-time"/),
  post('end_date is not a date', { ...body({ end: 'soon' }) }, /body\.end_date must match format "date-time"/),
  post('both end_date and duration_in_seconds', { ...body(), end_date: isoFromNow(2 * HOUR), duration_in_seconds: 3600 }, /only one of end_date and duration_in_seconds/),
  post('neither end_date nor duration_in_seconds', { participants: body().participants, start_date: start }, /one of end_date and duration_in_seconds is required/),
  post('end_date before start_date', body({ start, end: isoFromNow(HOUR - 60_000) }), /end_date must be after start_date/),
  post('duration under 5 minutes', body({ duration: 299 }), /at least 5 minutes/),
  post('duration not an integer', body({ duration: 12.5 as number }), /body\.duration_in_seconds must be integer/),
  post('negative duration', body({ duration: -10 }), /body\.duration_in_seconds must be >= 1/),
  post('absurdly long duration', body({ duration: 1e20 }), /body\.duration_in_seconds must be <= 31536000/),
  post('fullName too long', body({ participants: [doctor(), { ...patient(), fullName: 'x'.repeat(300) }] }), /fullName must NOT have more than 256 characters/),
  post('body is an array', [body()], /body must be object/),
  post('body is null', null, /body must be object|Body cannot be empty/),
  { name: 'malformed JSON', method: 'POST', url: '/teleconsultation', raw: '{"participants": {', headers: { 'content-type': 'application/json' }, status: 400, message: /JSON/ },
  { name: 'plain text body', method: 'POST', url: '/teleconsultation', raw: 'participants=1', headers: { 'content-type': 'text/plain' }, status: 415, message: /Unsupported Media Type: text\/plain \(send application\/json\)/ },
  { name: 'plain text PATCH body', method: 'PATCH', url: '/teleconsultation/:id', raw: '{"duration_in_seconds":600}', headers: { 'content-type': 'text/plain; charset=utf-8' }, status: 415, message: /Unsupported Media Type: text\/plain/ },
  post('participants without number', { ...body(), participants: { data: [doctor()] } }, /body\.participants must have required property 'number'/),
  post('participants without data', { ...body(), participants: { number: 2 } }, /body\.participants must have required property 'data'/),
  post('start_date before 2000', { ...body(), start_date: '1999-12-31T23:00:00.000Z' }, /start_date must be between 2000-01-01 and 2100-12-31/),
  post('start_date in year 1', { ...body(), start_date: '0001-01-01T10:00:00Z', end_date: '0001-01-01T11:00:00Z', duration_in_seconds: undefined }, /start_date must be between 2000-01-01 and 2100-12-31/),
  post('end_date after 2100', body({ start, end: '2101-01-01T00:00:00.000Z' }), /end_date must be between 2000-01-01 and 2100-12-31/),
  post('a duration ending after 2100', body({ start: '2100-12-31T23:00:00.000Z', duration: 7200 }), /the end \(start_date \+ duration_in_seconds\) must be between 2000-01-01 and 2100-12-31/),
  patch('PATCH start_date in 1970', { start_date: '1970-01-01T00:00:00.000Z' }, /start_date must be between 2000-01-01 and 2100-12-31/),
  { name: 'unknown, very long path', method: 'GET', url: `/${'x'.repeat(5000)}`, status: 404, message: /^Route GET:\/x{99}… \(5001 characters\) not found$/ },
  { name: 'path parameter over the router limit', method: 'DELETE', url: `/teleconsultation/${'a'.repeat(5000)}`, status: 414, message: /^a path parameter is too long: \/teleconsultation\/a+… \(5018 characters\)$/ },
  { name: 'XML body', method: 'POST', url: '/teleconsultation', raw: '<participants/>', headers: { 'content-type': 'application/xml' }, status: 415, message: /Unsupported Media Type/ },
  { name: 'oversized body', method: 'POST', url: '/teleconsultation', raw: JSON.stringify({ ...body(), pad: 'x'.repeat(1_100_000) }), headers: { 'content-type': 'application/json' }, status: 413, message: /too large/ },
  patch('PATCH with both end_date and duration', { end_date: isoFromNow(3 * HOUR), duration_in_seconds: 600 }, /only one of end_date and duration_in_seconds/),
  patch('PATCH shortening under 5 minutes', { duration_in_seconds: 60 }, /at least 5 minutes/),
  patch('PATCH moving the end before the start', { end_date: isoFromNow(HOUR / 2) }, /end_date must be after start_date/),
  patch('PATCH with an unknown group', { participants: { number: 2, data: [doctor(), { ...patient(), groups: ['nurse'] }] } }, /no group listed/),
  patch('PATCH with a bad date', { start_date: '2030-13-01T00:00:00Z' }, /body\.start_date must match format "date-time"/),
  patch('PATCH lowering number under the known participants', { participants: { number: 1, data: [doctor()] } }, /at least 2 participants/),
  { name: 'id with forbidden characters', method: 'GET', url: '/teleconsultation/abc$def', headers: as('doctor-1'), status: 400, message: /params\.id must match pattern/ },
  { name: 'id too long', method: 'DELETE', url: `/teleconsultation/${'a'.repeat(65)}`, status: 400, message: /params\.id must match pattern/ },
  { name: 'useBackground is not a boolean', method: 'GET', url: '/teleconsultation/:id?useBackground=maybe', headers: as('doctor-1'), status: 400, message: /querystring\.useBackground must be boolean/ },
  { name: 'GET without the user header', method: 'GET', url: '/teleconsultation/:id', status: 401, message: /Unauthorized user/ },
  { name: 'GET by a stranger', method: 'GET', url: '/teleconsultation/:id', headers: as('intruder'), status: 401, message: /Unauthorized user/ }
]

eachStore(t, `${cases.length} bad inputs: each a 4xx naming the problem, nothing changed`, async (t, store) => {
  t.ok(cases.length >= 30)
  // The stores count their writes, so a refused POST that stored a record (or a user-map row) shows.
  const counting = faultyStores(await storesOf(t, store))
  const { app, emulator, stores } = await setup(t, { stores: counting.stores })
  const writes = (): number[] => (['insert', 'update', 'remove', 'mapInsert'] as StoreMethod[]).map(m => counting.succeeded(m))
  const created = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ start: isoFromNow(HOUR), end: isoFromNow(2 * HOUR) }) })
  const id: string = created.json().roomId
  const recordBefore = await stores.teleconsultations.get(id)
  const writesBefore = writes()
  const roomsBefore = emulator.liveRooms()
  const usersBefore = emulator.users()
  const callsBefore = emulator.requests().filter(r => r.method !== 'GET').length

  for (const c of cases) {
    const res = await app.inject({
      method: c.method,
      url: c.url.replace(':id', id),
      headers: c.headers,
      ...(c.raw !== undefined ? { payload: c.raw } : c.payload !== undefined ? { payload: c.payload as object } : {})
    })
    t.equal(res.statusCode, c.status, `${c.name}: status`)
    const answer = res.json()
    t.match(answer.error === undefined ? '' : String(answer.message ?? answer.error), c.message, `${c.name}: message names the problem (${res.body.slice(0, 300)})`)
    t.ok(res.body.length < 400, `${c.name}: the answer does not echo the input at length`)
  }

  t.same(await stores.teleconsultations.get(id), recordBefore, 'the stored teleconsultation is unchanged')
  t.same(writes(), writesBefore, 'no record and no user-map row was written, updated or removed')
  t.same(emulator.liveRooms(), roomsBefore, 'no room was created or deleted')
  t.same(emulator.users(), usersBefore, 'no Kaleyra user was created')
  t.equal(emulator.requests().filter(r => r.method !== 'GET').length, callsBefore, 'no Kaleyra write happened')
})
