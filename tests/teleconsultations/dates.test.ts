// Stored dates are RFC 3339 in UTC whatever form the request used; 2000-01-01 to 2100-12-31 is accepted.
import t from 'tap'
import { setup } from '../helpers/app.js'
import { body } from '../helpers/fixtures.js'

t.test('dates with an offset or a space are stored as RFC 3339 UTC', async t => {
  const { app, stores } = await setup(t)
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: { ...body(), start_date: '2030-02-22 16:30:00+01:00', end_date: '2030-02-22T17:30:00.5+01:00', duration_in_seconds: undefined } })
  t.equal(res.statusCode, 201)
  const record = await stores.teleconsultations.get(res.json().roomId)
  t.equal(record?.startDate, '2030-02-22T15:30:00.000Z')
  t.equal(record?.endDate, '2030-02-22T16:30:00.500Z')
  const patched = await app.inject({ method: 'PATCH', url: `/teleconsultation/${String(res.json().roomId)}`, payload: { start_date: '2030-02-22T10:00:00-05:00', duration_in_seconds: 1800 } })
  t.equal(patched.statusCode, 204)
  const after = await stores.teleconsultations.get(res.json().roomId)
  t.equal(after?.startDate, '2030-02-22T15:00:00.000Z')
  t.equal(after?.endDate, '2030-02-22T15:30:00.000Z')
})

t.test('the first and last days of the range are accepted', async t => {
  const { app } = await setup(t)
  for (const [start, end] of [['2000-01-01T00:00:00.000Z', '2000-01-01T01:00:00.000Z'], ['2100-12-31T22:00:00.000Z', '2100-12-31T23:59:59.999Z']]) {
    const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: { ...body({ start, end }) } })
    t.equal(res.statusCode, 201, `${start} – ${end}`)
  }
})
