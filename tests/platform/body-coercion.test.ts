import t from 'tap'
import { eachStore, setup } from '../helpers/app.js'
import { coerceScalars } from '../../src/lib/coercion.js'
import { as, body, doctor, isoFromNow, HOUR, patient } from '../helpers/fixtures.js'

/** exp - iat of an SDK token. */
function lifetime (token: string): number {
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { iat: number, exp: number }
  return claims.exp - claims.iat
}

// custom-plugin-lib validated bodies with Ajv `coerceTypes: true`: clients that send numbers as
// strings worked on the original and must keep working.

eachStore(t, 'string numbers in a teleconsultation body are read as numbers', async (t, store) => {
  const { app, emulator, stores } = await setup(t, { store, env: { UNLIMITED_TELECONSULTATION: 'false' } })
  const start = isoFromNow(HOUR)
  const res = await app.inject({
    method: 'POST',
    url: '/teleconsultation',
    payload: { participants: { number: '2', data: [doctor(), patient()] }, start_date: start, duration_in_seconds: '3600' }
  })
  t.equal(res.statusCode, 201)
  const record = await stores.teleconsultations.get(res.json().roomId)
  t.equal(record?.participantsNumber, 2, 'stored as the number 2')
  t.equal(record?.endDate, new Date(Date.parse(start) + 3600_000).toISOString(), 'the end is start + 3600 s')
  t.equal(emulator.liveRooms()[0]?.duration, 3600, 'Kaleyra gets a numeric duration')

  const patch = await app.inject({ method: 'PATCH', url: `/teleconsultation/${res.json().roomId}`, payload: { duration_in_seconds: '1800' } })
  t.equal(patch.statusCode, 204)
  const changed = await stores.teleconsultations.get(res.json().roomId)
  t.equal(changed?.endDate, new Date(Date.parse(start) + 1800_000).toISOString())
})

eachStore(t, 'coercion stops at scalars: validation messages and refusals are unchanged', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  const cases: Array<[string, unknown, RegExp]> = [
    ['a word for a number', { ...body(), participants: { number: 'two', data: [] } }, /body\.participants\.number must be integer/],
    ['a decimal string for an integer', body({ duration: '12.5' as never }), /body\.duration_in_seconds must be integer/],
    ['a string for the participants', { ...body(), participants: 'doctor-1' }, /body\.participants must be array or object/],
    ['a string for the groups', body({ participants: [doctor(), { ...patient(), groups: 'patient' as never }] }), /groups must be array/],
    ['a string duration under the minimum', body({ duration: '-10' as never }), /body\.duration_in_seconds must be >= 1/]
  ]
  for (const [name, payload, message] of cases) {
    const res = await app.inject({ method: 'POST', url: '/teleconsultation', payload: payload as Record<string, unknown> })
    t.equal(res.statusCode, 400, name)
    t.match(res.json().message, message, name)
  }
  t.equal(emulator.users().length, 0, 'nothing was created')
})

eachStore(t, 'POST /credentials reads "expiresIn": "3600" as 3600', async (t, store) => {
  const { app } = await setup(t, { store })
  const res = await app.inject({ method: 'POST', url: '/credentials', headers: as('doctor-1', ['doctor']), payload: { expiresIn: '7200' } })
  t.equal(res.statusCode, 201)
  t.equal(lifetime(res.json().accessToken), 7200, 'the token lives 7200 s')
  const tooShort = await app.inject({ method: 'POST', url: '/credentials', headers: as('doctor-1', ['doctor']), payload: { expiresIn: '359' } })
  t.equal(tooShort.statusCode, 400)
  t.match(tooShort.json().message, /body\.expiresIn must be >= 360/)
})

t.test('the coercion rules: towards numbers, integers and booleans only, never into arrays', async t => {
  const schema = {
    type: 'object',
    properties: {
      n: { type: 'number' },
      i: { type: 'integer' },
      b: { type: 'boolean' },
      s: { type: 'string' },
      list: { type: 'array', items: { type: 'integer' } },
      either: { anyOf: [{ type: 'array' }, { type: 'object', properties: { k: { type: 'integer' } } }] }
    }
  }
  t.same(coerceScalars(schema, { n: '1.5', i: '2', b: 'true', list: ['3', 4], either: { k: '5' } }), { n: 1.5, i: 2, b: true, list: [3, 4], either: { k: 5 } })
  t.same(coerceScalars(schema, { b: 'false' }), { b: false })
  t.same(coerceScalars(schema, { s: 7, i: '2.5', n: 'many', b: 'yes', list: '3' }), { s: 7, i: '2.5', n: 'many', b: 'yes', list: '3' }, 'left for the validator to refuse')
})
