// A scripted walk through the teleconsultation lifecycle over HTTP, checking every status and
// body against the contract. Run it against `npm run demo`:  node scripts/scenario.mjs [baseUrl]
const base = (process.argv[2] ?? 'http://127.0.0.1:3000').replace(/\/$/, '')
const iso = ms => new Date(Date.now() + ms).toISOString()
const HOUR = 3_600_000
let failures = 0

async function call (method, path, { body, user } = {}) {
  const headers = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (user !== undefined) { headers.miauserid = user.id; headers.miausergroups = user.groups }
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) }
}

function check (name, condition, detail) {
  if (condition) console.log(`ok   ${name}`)
  else { failures++; console.log(`FAIL ${name}${detail === undefined ? '' : ` — ${JSON.stringify(detail)}`}`) }
}

const expect = (name, res, status, body) =>
  check(name, res.status === status && (body === undefined || JSON.stringify(res.body) === JSON.stringify(body)), res)

// The exact shapes of SPEC §3: POST answers { roomId }; GET answers these keys (details only once the room exists).
const sameKeys = (object, keys) => typeof object === 'object' && object !== null && JSON.stringify(Object.keys(object).sort()) === JSON.stringify([...keys].sort())
const DETAILS = ['recording', 'recordingStatus', 'callType', 'description', 'status', 'disabled', 'creationDate', 'durationInSeconds', 'durationUsedInSeconds', 'live']
const emptyCreated = (name, res) => check(name, res.status === 201 && res.body === undefined, res)
const created = res => res.status === 201 && sameKeys(res.body, ['roomId']) && typeof res.body.roomId === 'string'
const viewShape = (res, withRoom) => res.status === 200 &&
  sameKeys(res.body, withRoom ? ['bandyerUserId', 'accessLinkURL', 'participantsBandyerCall', 'details'] : ['bandyerUserId', 'accessLinkURL', 'participantsBandyerCall']) &&
  typeof res.body.bandyerUserId === 'string' &&
  res.body.participantsBandyerCall.every(p => sameKeys(p, ['bandyerUserId', 'fullName'])) &&
  (!withRoom || sameKeys(res.body.details, DETAILS))

const doctor = { userId: 'scenario-doctor', groups: ['doctor'], fullName: 'Dr. Scenario', language: 'en' }
const patient = { userId: 'scenario-patient', groups: ['patient'], fullName: 'Pat Scenario', language: 'en' }
const late = { userId: 'scenario-late', groups: ['patient'], fullName: 'Late Joiner' }
const asDoctor = { id: doctor.userId, groups: 'doctor' }
const asPatient = { id: patient.userId, groups: 'patient' }

// 1. complete, already started: the room exists and links are given
const started = await call('POST', '/teleconsultation', { body: { participants: { number: 2, data: [doctor, patient] }, start_date: iso(-60_000), duration_in_seconds: 3600 } })
check('POST complete, started → 201 { roomId }', created(started), started)
const startedId = started.body.roomId
const view = await call('GET', `/teleconsultation/${startedId}?language=it`, { user: asDoctor })
check('GET as the doctor → 200 with their link, participants and details', viewShape(view, true) && typeof view.body.accessLinkURL === 'string' &&
  view.body.accessLinkURL.includes('language=it') && view.body.participantsBandyerCall.length === 2, view)
const patientView = await call('GET', `/teleconsultation/${startedId}`, { user: asPatient })
check('GET as the patient → 200 with their own link', viewShape(patientView, true) && typeof patientView.body.accessLinkURL === 'string' &&
  patientView.body.bandyerUserId !== view.body.bandyerUserId && patientView.body.accessLinkURL.split('?')[0] !== view.body.accessLinkURL.split('?')[0], patientView)
expect('GET as a stranger → 401', await call('GET', `/teleconsultation/${startedId}`, { user: { id: 'stranger', groups: 'patient' } }), 401, { error: 'Unauthorized user' })
expect('GET without user → 401', await call('GET', `/teleconsultation/${startedId}`), 401, { error: 'Unauthorized user' })

// 2. partial, in the future: no room, no link
const future = await call('POST', '/teleconsultation', { body: { participants: { number: 3, data: [doctor, patient] }, start_date: iso(2 * HOUR), end_date: iso(3 * HOUR) } })
check('POST partial, future → 201 { roomId }', created(future), future)
const futureId = future.body.roomId
const waiting = await call('GET', `/teleconsultation/${futureId}`, { user: asDoctor })
check('GET before the room exists → link null, no details', viewShape(waiting, false) && waiting.body.accessLinkURL === null, waiting)

// 3. the last participant through the legacy route creates the room (link still withheld: future)
emptyCreated('POST …/participants/data (last one) → 201, empty body', await call('POST', `/teleconsultation/${futureId}/participants/data`, { body: late }))
const ready = await call('GET', `/teleconsultation/${futureId}`, { user: { id: late.userId, groups: 'patient' } })
check('GET after completion → room details, link still null before the start', viewShape(ready, true) && ready.body.accessLinkURL === null, ready)
expect('one participant too many → 400', await call('POST', `/teleconsultation/${futureId}/participants/data`, { body: { userId: 'extra', groups: ['patient'], fullName: 'Extra' } }), 400,
  { error: `Failed POST /teleconsultation/${futureId}/participants/data: the teleconsultation already has all its 3 participants` })

// 3b. partial, already started: no link until the last participant arrives, then the link at once
const overdue = await call('POST', '/teleconsultation', { body: { participants: { number: 2, data: [doctor] }, start_date: iso(-60_000), duration_in_seconds: 3600 } })
check('POST partial, started → 201 { roomId }', created(overdue), overdue)
const overdueId = overdue.body.roomId
const noRoom = await call('GET', `/teleconsultation/${overdueId}`, { user: asDoctor })
check('GET started but incomplete → link null, no details', viewShape(noRoom, false) && noRoom.body.accessLinkURL === null, noRoom)
emptyCreated('POST …/participants/data (last one, started) → 201, empty body', await call('POST', `/teleconsultation/${overdueId}/participants/data`, { body: patient }))
const overdueView = await call('GET', `/teleconsultation/${overdueId}`, { user: asPatient })
check('GET once complete → the link at once (already started)', viewShape(overdueView, true) && typeof overdueView.body.accessLinkURL === 'string', overdueView)

// 4. PATCH before the frozen window replaces the room; inside it is refused
expect('PATCH future teleconsultation → 204', await call('PATCH', `/teleconsultation/${futureId}`, { body: { start_date: iso(4 * HOUR), duration_in_seconds: 1800 } }), 204)
expect('PATCH without a plus user → 400', await call('PATCH', `/teleconsultation/${futureId}`, { body: { participants: { number: 2, data: [patient, late] } } }), 400,
  { error: 'Failed PATCH /teleconsultation: no plus user in room' })
expect('PATCH started (frozen) teleconsultation → 409', await call('PATCH', `/teleconsultation/${startedId}`, { body: { duration_in_seconds: 900 } }), 409,
  { error: `Failed PATCH /teleconsultation/${startedId}: teleconsultation can no longer be modified` })
expect('POST without a plus user → 400', await call('POST', '/teleconsultation', { body: { participants: { number: 2, data: [patient, late] }, start_date: iso(HOUR), duration_in_seconds: 600 } }), 400,
  { error: 'Failed POST /teleconsultation: no plus user in room' })

// 5. delete
expect('DELETE → 204', await call('DELETE', `/teleconsultation/${startedId}`), 204)
expect('DELETE → 204', await call('DELETE', `/teleconsultation/${futureId}`), 204)
expect('DELETE → 204', await call('DELETE', `/teleconsultation/${overdueId}`), 204)
expect('GET deleted → 404', await call('GET', `/teleconsultation/${startedId}`, { user: asDoctor }), 404, { error: `Room with id ${startedId} not found on CRUD` })
expect('DELETE again → 404', await call('DELETE', `/teleconsultation/${futureId}`), 404, { error: `Room with id ${futureId} not found on CRUD` })

console.log(failures === 0 ? 'scenario passed' : `scenario FAILED (${failures})`)
process.exitCode = failures === 0 ? 0 : 1
