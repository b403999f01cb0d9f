import { createHmac } from 'node:crypto'
import t from 'tap'
import { kaleyraUserIdFor } from '../../src/users/kaleyra-users.js'
import { eachStore, KALEYRA_FAULT_TIMEOUT, setup } from '../helpers/app.js'
import { as, body } from '../helpers/fixtures.js'

/** The claims of a token, after checking its HS256 signature with the emulator's api key. */
function verify (token: string, apiKey: string): { user: string, iat: number, exp: number } {
  const [header, payload, signature] = token.split('.')
  const expected = createHmac('sha256', apiKey).update(`${header}.${payload}`).digest('base64url')
  if (signature !== expected) throw new Error('bad signature')
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
}

eachStore(t, 'a new caller gets a token, a Kaleyra user with the role of their groups, and a map row', async (t, store) => {
  const { app, emulator, stores } = await setup(t, { store })
  const res = await app.inject({ method: 'POST', url: '/credentials', headers: as('doctor-9', ['doctor']), payload: { expiresIn: 7200 } })
  t.equal(res.statusCode, 201)
  const access = res.json()
  t.same(Object.keys(access).sort(), ['accessToken', 'bandyerUserId', 'expiresAt'])
  t.equal(access.bandyerUserId, kaleyraUserIdFor('doctor-9'))
  const claims = verify(access.accessToken, emulator.apiKey)
  t.equal(claims.user, access.bandyerUserId)
  t.equal(claims.exp - claims.iat, 7200)
  t.equal(new Date(access.expiresAt).getTime(), claims.exp * 1000)
  t.same(emulator.users(), [{ userId: access.bandyerUserId, role: 'plus' }])
  t.match(await stores.userMap.find('doctor-9'), { receivedUserId: 'doctor-9', bandyerId: access.bandyerUserId, groups: ['doctor'] })

  const patient = await app.inject({ method: 'POST', url: '/credentials', headers: as('patient-9', ['patient', 'other']), payload: {} })
  t.equal(patient.statusCode, 201)
  t.match(emulator.users(), [{ role: 'plus' }, { userId: kaleyraUserIdFor('patient-9'), role: 'basic' }])
})

eachStore(t, 'expiresIn defaults to 3600, even without any body', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  for (const payload of [undefined, {}]) {
    const res = await app.inject({ method: 'POST', url: '/credentials', headers: as('doctor-1', ['doctor']), ...(payload === undefined ? {} : { payload }) })
    t.equal(res.statusCode, 201)
    const claims = verify(res.json().accessToken, emulator.apiKey)
    t.equal(claims.exp - claims.iat, 3600)
  }
})

eachStore(t, 'expiresIn outside 360–86400 is a 400 naming the field, and nothing is created', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  const cases: Array<[unknown, RegExp]> = [
    [359, /body\.expiresIn must be >= 360/],
    [86_401, /body\.expiresIn must be <= 86400/],
    [3600.5, /body\.expiresIn must be integer/],
    ['3600.5', /body\.expiresIn must be integer/]
  ]
  for (const [expiresIn, message] of cases) {
    const res = await app.inject({ method: 'POST', url: '/credentials', headers: as('doctor-1', ['doctor']), payload: { expiresIn } })
    t.equal(res.statusCode, 400, `expiresIn ${String(expiresIn)}`)
    t.match(res.json().message, message)
  }
  for (const expiresIn of [360, 86_400]) {
    const res = await app.inject({ method: 'POST', url: '/credentials', headers: as('doctor-1', ['doctor']), payload: { expiresIn } })
    t.equal(res.statusCode, 201, `the bound ${expiresIn} is accepted`)
  }
  t.equal(emulator.users().length, 1)
  const notJson = await app.inject({ method: 'POST', url: '/credentials', headers: { ...as('doctor-1', ['doctor']), 'content-type': 'text/plain' }, payload: 'expiresIn=3600' })
  t.equal(notJson.statusCode, 400, 'a text body is not an object')
})

eachStore(t, 'no user in the headers: 401 and no Kaleyra call', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  const res = await app.inject({ method: 'POST', url: '/credentials', payload: {} })
  t.equal(res.statusCode, 401)
  t.same(res.json(), { error: 'Unauthorized user' })
  t.equal(emulator.requests().length, 0)
})

eachStore(t, 'a caller whose groups give no role is refused with 400 and gets no Kaleyra user', async (t, store) => {
  const { app, emulator, stores } = await setup(t, { store })
  for (const headers of [as('visitor', ['visitor']), as('visitor')]) {
    const res = await app.inject({ method: 'POST', url: '/credentials', headers, payload: {} })
    t.equal(res.statusCode, 400)
    t.same(res.json(), { error: 'Failed POST /credentials: none of the user\'s groups is listed in the service privileges' })
  }
  t.equal(emulator.users().length, 0)
  t.equal(await stores.userMap.find('visitor'), null)
})

eachStore(t, 'a known user (e.g. a past participant) reuses their Kaleyra user, whatever the groups header says', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  t.equal((await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })).statusCode, 201)
  const usersBefore = emulator.users().length
  const res = await app.inject({ method: 'POST', url: '/credentials', headers: as('patient-1'), payload: { expiresIn: 600 } })
  t.equal(res.statusCode, 201)
  t.equal(res.json().bandyerUserId, kaleyraUserIdFor('patient-1'))
  t.equal(emulator.users().length, usersBefore)
  t.equal(emulator.requests().filter(r => r.method === 'POST' && r.path === '/v2/users').length, usersBefore, 'no new user creation')
})

eachStore(t, 'concurrent first calls of one user create one Kaleyra user', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  const answers = await Promise.all(Array.from({ length: 8 }, async () =>
    await app.inject({ method: 'POST', url: '/credentials', headers: as('doctor-7', ['doctor']), payload: {} })))
  t.same(answers.map(a => a.statusCode), Array(8).fill(201))
  t.equal(new Set(answers.map(a => a.json().bandyerUserId)).size, 1)
  t.equal(emulator.users().length, 1)
})

eachStore(t, 'Kaleyra failures: 502, and 504 when it does not answer', async (t, store) => {
  const { app, emulator } = await setup(t, { store, env: KALEYRA_FAULT_TIMEOUT })
  emulator.faults.add({ method: 'POST', path: '/v2/sdk/credentials', kind: 'status', status: 500 })
  const failed = await app.inject({ method: 'POST', url: '/credentials', headers: as('doctor-1', ['doctor']), payload: {} })
  t.equal(failed.statusCode, 502)
  t.same(failed.json(), { error: 'Kaleyra service error' })
  t.notOk(failed.body.includes(emulator.apiKey))

  emulator.faults.clear()
  emulator.faults.add({ method: 'POST', path: '/v2/sdk/credentials', kind: 'hang' })
  const slow = await app.inject({ method: 'POST', url: '/credentials', headers: as('doctor-1', ['doctor']), payload: {} })
  t.equal(slow.statusCode, 504)
  t.same(slow.json(), { error: 'Kaleyra service timeout' })

  emulator.faults.clear()
  emulator.faults.add({ method: 'POST', path: '/v2/users', kind: 'status', status: 503 })
  const noUser = await app.inject({ method: 'POST', url: '/credentials', headers: as('doctor-2', ['doctor']), payload: {} })
  t.equal(noUser.statusCode, 502)

  emulator.faults.clear()
  const ok = await app.inject({ method: 'POST', url: '/credentials', headers: as('doctor-2', ['doctor']), payload: {} })
  t.equal(ok.statusCode, 201, 'works once Kaleyra is back')
})
