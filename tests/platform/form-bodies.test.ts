import t from 'tap'
import { eachStore, setup } from '../helpers/app.js'
import { as, body } from '../helpers/fixtures.js'

// custom-plugin-lib registered @fastify/formbody; the routes with a flat body take it here too.
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

function lifetime (token: string): number {
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { iat: number, exp: number }
  return claims.exp - claims.iat
}

eachStore(t, 'a form-encoded POST /credentials works, with the same validation', async (t, store) => {
  const { app, emulator } = await setup(t, { store })
  const headers = { ...as('doctor-1', ['doctor']), ...FORM }
  const res = await app.inject({ method: 'POST', url: '/credentials', headers, payload: 'expiresIn=7200' })
  t.equal(res.statusCode, 201)
  t.equal(lifetime(res.json().accessToken), 7200)

  const empty = await app.inject({ method: 'POST', url: '/credentials', headers, payload: '' })
  t.equal(empty.statusCode, 201, 'an empty form means the default expiry')
  t.equal(lifetime(empty.json().accessToken), 3600)

  for (const [payload, message] of [
    ['expiresIn=soon', /body\.expiresIn must be integer/],
    ['expiresIn=10', /body\.expiresIn must be >= 360/],
    ['expiresIn=3600&expiresIn=7200', /body\.expiresIn must be integer/]
  ] as const) {
    const bad = await app.inject({ method: 'POST', url: '/credentials', headers, payload })
    t.equal(bad.statusCode, 400, payload)
    t.match(bad.json().message, message, payload)
  }
  t.equal(emulator.users().length, 1, 'refused forms created nothing')
})

t.test('a form-encoded PATCH /settings/update is validated and reaches the service', async t => {
  const { app } = await setup(t)
  const headers = { ...as('admin-1', ['admin']), ...FORM }
  const unknown = await app.inject({ method: 'PATCH', url: '/settings/update', headers, payload: 'background_alias=3e4d0683d78be3a884b7a60028644f57' })
  t.equal(unknown.statusCode, 400)
  t.same(unknown.json(), { error: 'Failed PATCH /settings/update: 3e4d0683d78be3a884b7a60028644f57 is not a virtual background of the company' })
  const bad = await app.inject({ method: 'PATCH', url: '/settings/update', headers, payload: 'background_alias=..%2Fcompany' })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /body\.background_alias must match pattern/)
})

t.test('routes with nested bodies still take JSON only', async t => {
  const { app, emulator } = await setup(t)
  const res = await app.inject({ method: 'POST', url: '/teleconsultation', headers: FORM, payload: new URLSearchParams({ start_date: String(body().start_date) }).toString() })
  t.equal(res.statusCode, 415)
  t.equal(emulator.users().length, 0)
})

t.test('the OpenAPI document offers both body types on those two routes only', async t => {
  const { app } = await setup(t)
  const doc = (await app.inject({ method: 'GET', url: '/documentation/json' })).json()
  const types = (path: string, method: string): string[] =>
    Object.keys(doc.paths[path][method].requestBody.content).sort()
  t.same(types('/credentials', 'post'), ['application/json', 'application/x-www-form-urlencoded'])
  t.same(types('/settings/update', 'patch'), ['application/json', 'application/x-www-form-urlencoded'])
  t.same(types('/teleconsultation', 'post'), ['application/json'])
})
