import t from 'tap'
import { setup } from '../helpers/app.js'
import { as, body, HOUR, isoFromNow } from '../helpers/fixtures.js'

t.test('no secret or personal data reaches the logs, even when things fail', async t => {
  const { app, emulator, logs } = await setup(t, { env: { LOG_LEVEL: 'trace' } })
  const secretCookie = 'session=very-secret-cookie'
  const secretAuth = 'Bearer very-secret-token'
  const headers = { ...as('Dr-Secret-Name'), cookie: secretCookie, authorization: secretAuth }
  const payload = body({
    participants: [
      { userId: 'Dr-Secret-Name', groups: ['doctor'], fullName: 'Gregory House Secret' },
      { userId: 'patient-x', groups: ['patient'], fullName: 'Lisa Cuddy Secret' }
    ]
  })
  const created = await app.inject({ method: 'POST', url: '/teleconsultation', payload, headers })
  const id: string = created.json().roomId
  await app.inject({ method: 'GET', url: `/teleconsultation/${id}?language=it`, headers })
  emulator.faults.add({ kind: 'status', status: 500 })
  await app.inject({ method: 'PATCH', url: `/teleconsultation/${id}`, payload: { start_date: isoFromNow(HOUR), duration_in_seconds: 600 }, headers })
  await app.inject({ method: 'POST', url: '/teleconsultation', payload: { ...payload, participants: { number: 2, data: [{ userId: 'n', groups: ['x'], fullName: 'Unknown Group Secret' }] } }, headers })
  emulator.faults.clear()
  emulator.faults.add({ kind: 'hang' })
  await app.inject({ method: 'DELETE', url: `/teleconsultation/${id}`, headers })

  t.ok(logs.lines.length > 5, 'the scenario was logged')
  const all = logs.lines.join('\n')
  for (const secret of [emulator.apiKey, 'very-secret-cookie', 'very-secret-token', 'Gregory House', 'Lisa Cuddy', 'Unknown Group Secret']) {
    t.notOk(all.includes(secret), `"${secret}" is not logged`)
  }
  t.ok(logs.records().some(r => r.msg === 'upstream call failed'), 'upstream failures are logged')
})
