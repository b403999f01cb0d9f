import { createHmac } from 'node:crypto'
import t from 'tap'
import { API_KEY, startHarness } from './fixtures/harness.js'

function decode (part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
}

t.test('POST /v2/sdk/credentials', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  await h.call('POST', '/v2/users', { body: { id: 'doc', role: 'plus' } })

  const before = Math.floor(Date.now() / 1000)
  const res = await h.obj('POST', '/v2/sdk/credentials', { body: { user_id: 'doc', expires_in: 3600 } })
  t.equal(res.status, 200)
  t.equal(res.body.user_id, 'doc')
  const [header, payload, signature] = String(res.body.access_token).split('.')
  t.same(decode(header), { alg: 'HS256', typ: 'JWT' })
  const claims = decode(payload)
  t.equal(claims.user, 'doc')
  t.equal(claims.iss, '@switchboard-core')
  t.ok(typeof claims.iat === 'number' && claims.iat >= before && claims.iat <= before + 5, 'iat is now')
  t.equal(claims.exp, Number(claims.iat) + 3600, 'exp = iat + expires_in')
  t.equal(res.body.expires_at, new Date(Number(claims.exp) * 1000).toISOString(), 'expires_at is exp as ISO date')
  const expected = createHmac('sha256', API_KEY).update(`${header}.${payload}`).digest('base64url')
  t.equal(signature, expected, 'signed with the api key')
  const forged = createHmac('sha256', 'another-key').update(`${header}.${payload}`).digest('base64url')
  t.not(signature, forged)

  for (const expiresIn of [360, 86400]) {
    const ok = await h.obj('POST', '/v2/sdk/credentials', { body: { user_id: 'doc', expires_in: expiresIn } })
    t.equal(ok.status, 200, `expires_in ${expiresIn} accepted`)
  }
  for (const expiresIn of [359, 86401, 0, -5, 3600.5, '3600', null]) {
    const bad = await h.obj('POST', '/v2/sdk/credentials', { body: { user_id: 'doc', expires_in: expiresIn } })
    t.equal(bad.status, 422, `expires_in ${JSON.stringify(expiresIn)} refused`)
    t.equal(bad.body.error, 'invalid_token_expirations')
  }
  const defaulted = await h.obj('POST', '/v2/sdk/credentials', { body: { user_id: 'doc' } })
  t.equal(defaulted.status, 200, 'expires_in may be omitted')
  const defaultClaims = decode(String(defaulted.body.access_token).split('.')[1])
  t.equal(Number(defaultClaims.exp) - Number(defaultClaims.iat), 360, "Kaleyra's default expiry is 360 s")
  const unknown = await h.obj('POST', '/v2/sdk/credentials', { body: { user_id: 'ghost', expires_in: 3600 } })
  t.equal(unknown.status, 404, 'unknown user')
  t.equal(unknown.body.error, 'not_found')
  const noUser = await h.obj('POST', '/v2/sdk/credentials', { body: { expires_in: 3600 } })
  t.equal(noUser.status, 422)
  t.equal(noUser.body.error, 'validation_error')
})
