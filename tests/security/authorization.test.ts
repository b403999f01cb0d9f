import t from 'tap'
import { eachStore, setup } from '../helpers/app.js'
import { as, body, doctor, HOUR, isoFromNow, patient } from '../helpers/fixtures.js'

const writer = as('office-1', ['backoffice'])
const outsider = as('doctor-1', ['doctor'])

/** Every write route, with a body that succeeds for an authorised caller (`:id` is an existing teleconsultation). */
function writes (): Array<{ name: string, method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, status: number }> {
  return [
    { name: 'POST /teleconsultation', method: 'POST', url: '/teleconsultation', payload: body({ start: isoFromNow(HOUR) }), status: 201 },
    { name: 'legacy participants route', method: 'POST', url: '/teleconsultation/:id/participants/data', payload: patient('patient-2'), status: 201 },
    { name: 'PATCH /teleconsultation/:id', method: 'PATCH', url: '/teleconsultation/:id', payload: { duration_in_seconds: 1800 }, status: 204 },
    { name: 'DELETE /teleconsultation/:id/uploads', method: 'DELETE', url: '/teleconsultation/:id/uploads', status: 200 },
    { name: 'DELETE /teleconsultation/:id', method: 'DELETE', url: '/teleconsultation/:id', status: 204 }
  ]
}

async function snapshot (ctx: Awaited<ReturnType<typeof setup>>, id: string): Promise<unknown> {
  return {
    record: await ctx.stores.teleconsultations.get(id),
    rooms: ctx.emulator.liveRooms(),
    users: ctx.emulator.users(),
    kaleyraWrites: ctx.emulator.requests().filter(r => r.method !== 'GET').length
  }
}

eachStore(t, 'WRITE_GROUPS=backoffice: every write route refuses other callers with 403 and changes nothing; the group passes', async (t, store) => {
  const ctx = await setup(t, { store, env: { WRITE_GROUPS: 'backoffice', TELECONSULTATION_DELETE_UPLOADS: 'true' } })
  const { app } = ctx
  const created = await app.inject({ method: 'POST', url: '/teleconsultation', headers: writer, payload: body({ participants: [doctor(), patient()], number: 3, start: isoFromNow(HOUR) }) })
  t.equal(created.statusCode, 201)
  const id: string = created.json().roomId

  const before = await snapshot(ctx, id)
  for (const w of writes()) {
    for (const [who, headers] of [['no identity', {}], ['a doctor', outsider], ['a forged group header', { ...as('doctor-1'), miausergroups: 'doctor, back office' }]] as const) {
      const res = await app.inject({ method: w.method, url: w.url.replace(':id', id), headers, ...(w.payload !== undefined ? { payload: w.payload } : {}) })
      t.equal(res.statusCode, 403, `${w.name} by ${who}: 403`)
      t.same(res.json(), { error: 'Forbidden' })
    }
  }
  t.same(await snapshot(ctx, id), before, 'nothing was stored, created or deleted')

  for (const w of writes()) {
    // A participant (and a writer) deletes the uploads: the route keeps its own participant check.
    const headers = w.name.includes('uploads') ? as('doctor-1', ['doctor', 'backoffice']) : writer
    const res = await app.inject({ method: w.method, url: w.url.replace(':id', id), headers, ...(w.payload !== undefined ? { payload: w.payload } : {}) })
    t.equal(res.statusCode, w.status, `${w.name} by the backoffice group: ${w.status} (${res.body})`)
  }
  t.equal(await ctx.stores.teleconsultations.get(id), null, 'the teleconsultation was deleted by the writer')
})

t.test('WRITE_BACKOFFICE: requests from the back office may write, others not', async t => {
  const { app } = await setup(t, { env: { WRITE_BACKOFFICE: 'true' } })
  const refused = await app.inject({ method: 'POST', url: '/teleconsultation', headers: outsider, payload: body() })
  t.equal(refused.statusCode, 403)
  const notTrue = await app.inject({ method: 'POST', url: '/teleconsultation', headers: { ...outsider, isbackoffice: 'false' }, payload: body() })
  t.equal(notTrue.statusCode, 403)
  const office = await app.inject({ method: 'POST', url: '/teleconsultation', headers: { isbackoffice: 'true' }, payload: body() })
  t.equal(office.statusCode, 201)
})

t.test('WRITE_GROUPS and WRITE_BACKOFFICE together: either one lets a caller write', async t => {
  const { app } = await setup(t, { env: { WRITE_BACKOFFICE: 'true', WRITE_GROUPS: 'secretary,backoffice' } })
  for (const headers of [{ isbackoffice: 'true' }, as('s-1', ['secretary']), writer]) {
    t.equal((await app.inject({ method: 'POST', url: '/teleconsultation', headers, payload: body() })).statusCode, 201)
  }
  t.equal((await app.inject({ method: 'POST', url: '/teleconsultation', headers: outsider, payload: body() })).statusCode, 403)
})

t.test('the default configuration lets anyone write (2.1 behaviour)', async t => {
  const { app } = await setup(t)
  t.equal((await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })).statusCode, 201)
})

t.test('CREDENTIALS_GROUPS: only those groups get SDK tokens; no Kaleyra user is created for the others', async t => {
  const { app, emulator } = await setup(t, { env: { CREDENTIALS_GROUPS: 'doctor' } })
  const patientRes = await app.inject({ method: 'POST', url: '/credentials', headers: as('patient-1', ['patient']), payload: {} })
  t.equal(patientRes.statusCode, 403)
  t.same(patientRes.json(), { error: 'Forbidden' })
  t.same(emulator.users(), [], 'no Kaleyra user for the refused caller')
  const doctorRes = await app.inject({ method: 'POST', url: '/credentials', headers: outsider, payload: {} })
  t.equal(doctorRes.statusCode, 201)
})

t.test('CREDENTIALS_MAX_EXPIRES_IN: a longer expiresIn is a 400 naming the limit; the default never exceeds it', async t => {
  const { app, emulator } = await setup(t, { env: { CREDENTIALS_MAX_EXPIRES_IN: '1800' } })
  const tooLong = await app.inject({ method: 'POST', url: '/credentials', headers: outsider, payload: { expiresIn: 3600 } })
  t.equal(tooLong.statusCode, 400)
  t.match(tooLong.json().message, 'body.expiresIn must be <= 1800')
  t.same(emulator.users(), [], 'nothing created')
  const byDefault = await app.inject({ method: 'POST', url: '/credentials', headers: outsider })
  t.equal(byDefault.statusCode, 201)
  t.equal(new Date(byDefault.json().expiresAt).getTime() - Date.now() <= 1800_000, true, 'the default expiry is capped at the maximum')
})
