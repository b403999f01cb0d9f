// Verified identity (AUTH_JWKS_URL, AUTH_JWT_SECRET): the caller comes only from a bearer token
// that verifies against a JSON Web Key Set on 127.0.0.1 (or the shared secret); user headers are ignored.
import t from 'tap'
import { signatureHeader } from '../../src/lib/signature.js'
import { loadConfig } from '../../src/config/index.js'
import { FAULT_TIMEOUT_MS, setup, type Tap } from '../helpers/app.js'
import { body, HOUR, isoFromNow } from '../helpers/fixtures.js'
import {
  AUDIENCE,
  bearer,
  hmacToken,
  ISSUER,
  signingKey,
  startJwksServer,
  tampered,
  tokenFor,
  unsignedToken,
  type JwksServer,
  type SigningKey
} from './fixtures/jwks-server.js'

const rsa = signingKey('key-1')
const ec = signingKey('key-ec', 'ES256')
const officeClaims = { sub: 'office-1', groups: ['backoffice'] }

async function jwks (t: Tap, keys: SigningKey[] = [rsa, ec]): Promise<JwksServer> {
  const server = await startJwksServer(keys)
  t.teardown(() => server.close())
  return server
}

function jwtEnv (server: JwksServer, extra: Record<string, string> = {}): Record<string, string> {
  return { AUTH_JWKS_URL: server.url, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, WRITE_GROUPS: 'backoffice', ...extra }
}

t.test('every token case gives its documented status; only the valid ones create anything', async t => {
  const server = await jwks(t)
  const ctx = await setup(t, { env: jwtEnv(server) })
  const otherKey = signingKey('key-1') // same kid, another key: not the provider's
  const valid = await tokenFor(officeClaims, { key: rsa })
  const cases: Array<{ name: string, headers: Record<string, string>, status: number, error?: string }> = [
    { name: 'valid RS256', headers: bearer(valid), status: 201 },
    { name: 'valid ES256', headers: bearer(await tokenFor(officeClaims, { key: ec })), status: 201 },
    { name: 'within the clock leeway after exp', headers: bearer(await tokenFor(officeClaims, { key: rsa, expiresIn: -10 })), status: 201 },
    { name: 'no Authorization header', headers: {}, status: 401, error: 'Unauthorized: an Authorization: Bearer token is required' },
    { name: 'not a bearer scheme', headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, status: 401, error: 'Unauthorized: the Authorization header must be "Bearer <token>"' },
    { name: 'not a token', headers: bearer('not-a-jwt'), status: 401, error: 'Unauthorized: the token is malformed' },
    { name: 'expired', headers: bearer(await tokenFor(officeClaims, { key: rsa, expiresIn: -120 })), status: 401, error: 'Unauthorized: the token has expired' },
    { name: 'not yet valid', headers: bearer(await tokenFor(officeClaims, { key: rsa, notBefore: 600 })), status: 401, error: 'Unauthorized: the token is not valid yet' },
    { name: 'wrong issuer', headers: bearer(await tokenFor(officeClaims, { key: rsa, issuer: 'https://evil.example.test/' })), status: 401, error: 'Unauthorized: the token was not issued by an accepted issuer' },
    { name: 'wrong audience', headers: bearer(await tokenFor(officeClaims, { key: rsa, audience: 'another-service' })), status: 401, error: 'Unauthorized: the token is not meant for this service (audience)' },
    { name: 'wrong key, known kid', headers: bearer(await tokenFor(officeClaims, { key: otherKey })), status: 401, error: 'Unauthorized: the token\'s signature is not valid' },
    { name: 'wrong key, unknown kid', headers: bearer(await tokenFor(officeClaims, { key: signingKey('key-x') })), status: 401, error: 'Unauthorized: no known key matches the token' },
    { name: 'alg: none', headers: bearer(unsignedToken(officeClaims)), status: 401 },
    { name: 'tampered payload', headers: bearer(tampered(await tokenFor({ sub: 'doctor-1', groups: ['doctor'] }, { key: rsa }), c => ({ ...c, groups: ['backoffice'] }))), status: 401, error: 'Unauthorized: the token\'s signature is not valid' },
    { name: 'HS256 signed with the public key (algorithm confusion)', headers: bearer(await hmacToken(officeClaims, JSON.stringify(rsa.jwk))), status: 401, error: 'Unauthorized: the token\'s signature algorithm is not accepted' },
    { name: 'no sub claim', headers: bearer(await tokenFor({ groups: ['backoffice'] }, { key: rsa })), status: 401, error: 'Unauthorized: the token has no sub claim naming the user' }
  ]
  let created = 0
  for (const c of cases) {
    const res = await ctx.app.inject({ method: 'POST', url: '/teleconsultation', headers: c.headers, payload: body({ start: isoFromNow(HOUR) }) })
    t.equal(res.statusCode, c.status, `${c.name}: ${c.status} (${res.body})`)
    if (c.status === 201) created++
    if (c.status === 401) {
      t.match(res.json(), { error: /^Unauthorized: / }, `${c.name}: says why`)
      if (c.error !== undefined) t.same(res.json(), { error: c.error })
      t.match(res.headers['www-authenticate'], /^Bearer/, `${c.name}: names the scheme`)
    }
  }
  t.equal(ctx.emulator.liveRooms().length, created, 'a room for each accepted token, none for the refused ones')
  t.notOk(ctx.logs.lines.join('\n').includes(valid), 'the token is never logged')
})

t.test('forged user headers have no effect: the caller and their groups are the token\'s', async t => {
  const server = await jwks(t)
  const ctx = await setup(t, { store: 'crud', env: jwtEnv(server, { CREDENTIALS_GROUPS: 'doctor' }) })
  const forged = { miauserid: 'office-1', miausergroups: 'backoffice,doctor', isbackoffice: 'true', miauserproperties: '{"admin":true}' }

  const noToken = await ctx.app.inject({ method: 'POST', url: '/teleconsultation', headers: forged, payload: body() })
  t.equal(noToken.statusCode, 401, 'headers without a token: 401')
  const patientToken = await tokenFor({ sub: 'patient-1', groups: ['patient'] }, { key: rsa })
  const asPatient = await ctx.app.inject({ method: 'POST', url: '/teleconsultation', headers: { ...forged, ...bearer(patientToken) }, payload: body() })
  t.equal(asPatient.statusCode, 403, 'a patient token with forged backoffice headers cannot write')
  const credentials = await ctx.app.inject({ method: 'POST', url: '/credentials', headers: { ...forged, ...bearer(patientToken) }, payload: {} })
  t.equal(credentials.statusCode, 403, 'nor obtain SDK tokens reserved to doctors')
  t.same(ctx.emulator.users(), [], 'no Kaleyra user was created')

  const officeToken = await tokenFor(officeClaims, { key: rsa })
  const created = await ctx.app.inject({ method: 'POST', url: '/teleconsultation', headers: { ...bearer(officeToken), miauserid: 'someone-else', miausergroups: 'patient' }, payload: body() })
  t.equal(created.statusCode, 201, 'the backoffice token writes, whatever the headers say')
  const inserts = ctx.crud?.requests().filter(r => r.method === 'POST') ?? []
  t.ok(inserts.length > 0, 'the record went to the CRUD Service')
  for (const request of inserts) {
    t.equal(request.headers.miauserid, 'office-1', 'the CRUD Service is told the token\'s user')
    t.equal(request.headers.miausergroups, 'backoffice', 'and the token\'s groups')
    t.notOk('isbackoffice' in request.headers, 'never the forged backoffice flag')
    t.notOk('miauserproperties' in request.headers, 'nor the forged user properties')
  }

  const id: string = created.json().roomId
  const asDoctor = await ctx.app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: { ...bearer(await tokenFor({ sub: 'doctor-1', groups: ['doctor'] }, { key: rsa })), miauserid: 'patient-1' } })
  t.equal(asDoctor.statusCode, 200)
  const view = asDoctor.json()
  const me = view.participantsBandyerCall.find((p: { bandyerUserId: string }) => p.bandyerUserId === view.bandyerUserId)
  t.equal(me?.fullName, 'Dr doctor-1', 'the participant is the token\'s (the doctor), not the header\'s (the patient)')
})

t.test('rotation: a key that appears in the set after start is fetched and accepted', async t => {
  const server = await jwks(t, [rsa])
  const ctx = await setup(t, { env: jwtEnv(server, { AUTH_JWKS_COOLDOWN_MS: '0' }) })
  const first = await ctx.app.inject({ method: 'POST', url: '/teleconsultation', headers: bearer(await tokenFor(officeClaims, { key: rsa })), payload: body() })
  t.equal(first.statusCode, 201)
  t.equal(server.fetches(), 1, 'the set was fetched once')
  const again = await ctx.app.inject({ method: 'POST', url: '/teleconsultation', headers: bearer(await tokenFor(officeClaims, { key: rsa })), payload: body() })
  t.equal(again.statusCode, 201)
  t.equal(server.fetches(), 1, 'and then reused from the cache')

  const rotated = signingKey('key-2')
  server.keys = [rotated]
  const withNew = await ctx.app.inject({ method: 'POST', url: '/teleconsultation', headers: bearer(await tokenFor(officeClaims, { key: rotated })), payload: body() })
  t.equal(withNew.statusCode, 201, 'the new kid is accepted')
  t.equal(server.fetches(), 2, 'after one more fetch')
  const withOld = await ctx.app.inject({ method: 'POST', url: '/teleconsultation', headers: bearer(await tokenFor(officeClaims, { key: rsa })), payload: body() })
  t.equal(withOld.statusCode, 401, 'the retired key no longer verifies')
})

t.test('unknown kids do not hammer the provider: the set is fetched again at most once per AUTH_JWKS_COOLDOWN_MS', async t => {
  const server = await jwks(t, [rsa])
  const ctx = await setup(t, { env: jwtEnv(server) })
  t.equal((await ctx.app.inject({ method: 'POST', url: '/teleconsultation', headers: bearer(await tokenFor(officeClaims, { key: rsa })), payload: body() })).statusCode, 201)
  for (let i = 0; i < 5; i++) {
    const res = await ctx.app.inject({ method: 'POST', url: '/teleconsultation', headers: bearer(await tokenFor(officeClaims, { key: rsa, kid: `random-${i}` })), payload: body() })
    t.equal(res.statusCode, 401)
  }
  t.equal(server.fetches(), 1, 'five unknown kids within the cooldown: no more fetches')
})

t.test('a provider that cannot give its keys: 502, nothing changed, no upstream detail', async t => {
  const server = await jwks(t)
  server.failWith = 500
  const ctx = await setup(t, { env: jwtEnv(server) })
  const res = await ctx.app.inject({ method: 'POST', url: '/teleconsultation', headers: bearer(await tokenFor(officeClaims, { key: rsa })), payload: body() })
  t.equal(res.statusCode, 502)
  t.same(res.json(), { error: 'Identity service error' })
  t.equal(ctx.emulator.liveRooms().length, 0)
  t.notOk(ctx.logs.lines.join('\n').includes('secret-internal-detail'), 'the provider\'s body is not logged')
})

t.test('AUTH_JWT_SECRET: HS256 tokens signed with the secret', async t => {
  const secret = 'a-shared-secret-of-at-least-32-chars!'
  const ctx = await setup(t, { env: { AUTH_JWT_SECRET: secret, WRITE_GROUPS: 'backoffice' } })
  const post = async (headers: Record<string, string>) => await ctx.app.inject({ method: 'POST', url: '/teleconsultation', headers, payload: body() })
  t.equal((await post(bearer(await hmacToken(officeClaims, secret)))).statusCode, 201, 'signed with the secret: accepted')
  t.equal((await post(bearer(await hmacToken(officeClaims, 'another-secret-of-at-least-32-chars')))).statusCode, 401, 'another secret: 401')
  t.equal((await post(bearer(await hmacToken(officeClaims, secret, -120)))).statusCode, 401, 'expired: 401')
  t.equal((await post(bearer(await tokenFor(officeClaims, { key: rsa })))).statusCode, 401, 'an RS256 token: 401')
  t.equal((await post(bearer(unsignedToken(officeClaims)))).statusCode, 401, 'alg none: 401')
  t.equal((await post({ miauserid: 'office-1', miausergroups: 'backoffice' })).statusCode, 401, 'headers only: 401')
  t.equal(ctx.emulator.liveRooms().length, 1)
})

t.test('claims: AUTH_USER_ID_CLAIM and AUTH_GROUPS_CLAIM, dotted paths and comma strings', async t => {
  const server = await jwks(t)
  const ctx = await setup(t, { env: jwtEnv(server, { AUTH_USER_ID_CLAIM: 'email', AUTH_GROUPS_CLAIM: 'realm_access.roles' }) })
  const token = await tokenFor({ sub: 'ignored', email: 'office@example.test', realm_access: { roles: ['backoffice'] } }, { key: rsa })
  t.equal((await ctx.app.inject({ method: 'POST', url: '/teleconsultation', headers: bearer(token), payload: body() })).statusCode, 201)
  const commaToken = await tokenFor({ email: 'x@example.test', realm_access: { roles: 'patient, backoffice' } }, { key: rsa })
  t.equal((await ctx.app.inject({ method: 'POST', url: '/teleconsultation', headers: bearer(commaToken), payload: body() })).statusCode, 201)
  const noGroups = await tokenFor({ email: 'y@example.test' }, { key: rsa })
  t.equal((await ctx.app.inject({ method: 'POST', url: '/teleconsultation', headers: bearer(noGroups), payload: body() })).statusCode, 403, 'no groups claim: no groups')
})

t.test('status, documentation and signed webhooks need no token; the document names the bearer scheme', async t => {
  const server = await jwks(t)
  const ctx = await setup(t, { env: jwtEnv(server, { KALEYRA_WEBHOOKS: 'true' }) })
  for (const url of ['/-/healthz', '/-/ready', '/documentation/json']) {
    t.equal((await ctx.app.inject({ method: 'GET', url })).statusCode, 200, `${url}: 200 without a token`)
  }
  const raw = JSON.stringify({ event: 'on_room_deleted', event_version: '1.0', namespace: 'room', timestamp: Date.now(), data: { room_id: 'room_unknown' } })
  const webhook = await ctx.app.inject({
    method: 'POST',
    url: '/webhooks/kaleyra',
    headers: { 'content-type': 'application/json', 'bandyer-signature': signatureHeader(ctx.emulator.apiKey, Math.floor(Date.now() / 1000), raw) },
    payload: raw
  })
  t.equal(webhook.statusCode, 200, 'a signed webhook needs no bearer token')
  await ctx.services.webhooks?.idle()

  const doc = (await ctx.app.inject({ method: 'GET', url: '/documentation/json' })).json()
  t.same(doc.components.securitySchemes, { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: doc.components.securitySchemes.bearer.description } })
  const create = doc.paths['/teleconsultation'].post
  t.same(create.security, [{ bearer: [] }])
  t.match(create.responses['401'].description, /bearer token/)
  t.notOk('security' in doc.paths['/webhooks/kaleyra'].post, 'webhooks are signed, not bearer')
})

t.test('configuration: what cannot work refuses to start', async t => {
  const base = { KALEYRA_EMULATOR: 'true' }
  const jwksUrl = 'http://127.0.0.1:9/jwks.json'
  const refused: Array<[Record<string, string>, RegExp]> = [
    [{ AUTH_JWKS_URL: jwksUrl, AUTH_AUDIENCE: AUDIENCE }, /AUTH_ISSUER is required/],
    [{ AUTH_JWKS_URL: jwksUrl, AUTH_ISSUER: ISSUER }, /AUTH_AUDIENCE is required/],
    [{ AUTH_JWKS_URL: jwksUrl, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, AUTH_ALGORITHMS: 'RS256,HS256' }, /HS256 cannot be used with AUTH_JWKS_URL/],
    [{ AUTH_JWKS_URL: jwksUrl, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, AUTH_ALGORITHMS: 'none' }, /none cannot be used/],
    [{ AUTH_JWKS_URL: jwksUrl, AUTH_JWT_SECRET: 'x'.repeat(40), AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE }, /exclude each other/],
    [{ AUTH_JWT_SECRET: 'short' }, /at least 32 characters/],
    [{ AUTH_JWT_SECRET: 'x'.repeat(40), AUTH_ALGORITHMS: 'RS256' }, /RS256 cannot be used with AUTH_JWT_SECRET/],
    [{ AUTH_JWT_SECRET: 'x'.repeat(40), WRITE_BACKOFFICE: 'true' }, /WRITE_BACKOFFICE trusts a header/],
    [{ AUTH_ISSUER: ISSUER }, /AUTH_ISSUER need AUTH_JWKS_URL or AUTH_JWT_SECRET/],
    [{ AUTH_JWKS_URL: 'file:///etc/jwks.json', AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE }, /AUTH_JWKS_URL/]
  ]
  for (const [env, message] of refused) t.throws(() => loadConfig({ ...base, ...env }), { name: 'ConfigError', message }, JSON.stringify(env))
  t.ok(loadConfig({ ...base, AUTH_JWT_SECRET: 'x'.repeat(40), AUTH_ALGORITHMS: 'HS256,HS512' }), 'HMAC algorithms with a secret')
  const withProvider = { ...base, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE }
  t.match(loadConfig({ ...withProvider, AUTH_JWKS_URL: 'http://idp.example.test/jwks.json' }).warnings, [/AUTH_JWKS_URL is plain http/], 'plain http elsewhere: a warning at start')
  t.same(loadConfig({ ...withProvider, AUTH_JWKS_URL: 'https://idp.example.test/jwks.json' }).warnings, [], 'https: none')
  t.same(loadConfig({ ...withProvider, AUTH_JWKS_URL: jwksUrl }).warnings, [], 'this machine: none')
})

t.test('odd tokens and headers are 401, never 5xx', async t => {
  const server = await jwks(t)
  const ctx = await setup(t, { env: jwtEnv(server) })
  const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
  const valid = await tokenFor(officeClaims, { key: rsa })
  const [, payload, signature] = valid.split('.')
  const now = Math.floor(Date.now() / 1000)
  const claims = { iss: ISSUER, aud: AUDIENCE, exp: now + 3600 }
  const odd = [
    'Bearer', 'Bearer ', 'bearer', `Bearer ${valid} extra`, `Bearer ${valid}, Bearer ${valid}`, 'Bearer a.b.c', 'Bearer ...',
    `Bearer ${'a'.repeat(8000)}`, `Bearer ${b64('not json')}.${payload}.${signature}`, `Bearer ${b64({ alg: 'RS256', kid: 'key-1' })}.${b64('not json')}.${signature}`,
    `Bearer ${b64({ alg: 'RS256', kid: 'key-1', crit: ['x-unknown'], 'x-unknown': 1 })}.${payload}.${signature}`,
    `Bearer ${b64({ alg: 'RS256' })}.${payload}.${signature}`, `Bearer ${b64({ alg: 'RS256', kid: 'key-1' })}.${b64([1, 2])}.${signature}`,
    `Bearer ${b64({ alg: 'none' })}.${b64({ ...claims, sub: 'office-1' })}.`, `Bearer ${b64({ alg: 'None' })}.${b64({ ...claims, sub: 'office-1' })}.`,
    `Bearer ${await tokenFor({ sub: { id: 'office-1' } as unknown as string, groups: ['backoffice'] }, { key: rsa })}`,
    `Bearer ${await tokenFor({ sub: '   ', groups: ['backoffice'] }, { key: rsa })}`,
    `Bearer ${await tokenFor({ sub: 'office-1\r\nisbackoffice: true', groups: ['backoffice'] }, { key: rsa })}`
  ]
  // A groups claim that is neither a list nor a string is no groups: a verified caller, without the write group.
  const noGroups = `Bearer ${await tokenFor({ sub: 'office-1', groups: { backoffice: true } }, { key: rsa })}`
  const controlGroup = `Bearer ${await tokenFor({ sub: 'office-1', groups: ['backoffice\nx'] }, { key: rsa })}`
  for (const [authorization, expected] of [
    ...odd.map(a => [a, 401] as const),
    [noGroups, 403] as const,
    [controlGroup, 403] as const
  ]) {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/teleconsultation',
      headers: { authorization },
      payload: body()
    })
    const shown = authorization.length > 60 ? `${authorization.slice(0, 60)}…` : authorization
    t.equal(res.statusCode, expected, `${shown}: ${expected} (${res.body.slice(0, 120)})`)
  }
  t.equal(ctx.emulator.liveRooms().length, 0, 'nothing was created')

  // The token is checked before the body is read: a bad body says nothing to an unknown caller.
  const broken = await ctx.app.inject({ method: 'POST', url: '/teleconsultation', headers: { 'content-type': 'application/json' }, payload: '{"participants": ' })
  t.equal(broken.statusCode, 401, 'broken JSON without a token: 401, not 400')
  const upload = await ctx.app.inject({ method: 'POST', url: '/settings/background-image', headers: { 'content-type': 'text/plain' }, payload: 'not an image' })
  t.equal(upload.statusCode, 401, 'an upload without a token: 401, not 415')
})

t.test('a cold cache fetches the key set once for concurrent requests', async t => {
  const server = await jwks(t)
  const ctx = await setup(t, { env: jwtEnv(server) })
  const token = await tokenFor(officeClaims, { key: rsa })
  const answers = await Promise.all(Array.from({ length: 8 }, async () => await ctx.app.inject({ method: 'GET', url: '/teleconsultation/unknown-id', headers: bearer(token) })))
  t.same(answers.map(a => a.statusCode), Array(8).fill(404), 'all verified (the teleconsultation does not exist)')
  t.equal(server.fetches(), 1, 'one fetch of the key set')
})

t.test('a key set that cannot be reached: 502, or 504 when it does not answer in IDENTITY_TIMEOUT_MS', async t => {
  const closed = await startJwksServer([rsa])
  const url = closed.url
  await closed.close()
  const refused = await setup(t, { env: { ...jwtEnv(closed), AUTH_JWKS_URL: url } })
  const token = await tokenFor(officeClaims, { key: rsa })
  const down = await refused.app.inject({ method: 'POST', url: '/teleconsultation', headers: bearer(token), payload: body() })
  t.equal(down.statusCode, 502)
  t.same(down.json(), { error: 'Identity service error' })

  const { createServer } = await import('node:http')
  const hanging = createServer(() => { /* never answers */ })
  await new Promise<void>(resolve => { hanging.listen(0, '127.0.0.1', resolve) })
  t.teardown(() => { hanging.closeAllConnections(); hanging.close() })
  const port = (hanging.address() as { port: number }).port
  const slow = await setup(t, { env: { ...jwtEnv(closed), AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`, IDENTITY_TIMEOUT_MS: String(FAULT_TIMEOUT_MS) } })
  const late = await slow.app.inject({ method: 'POST', url: '/teleconsultation', headers: bearer(token), payload: body() })
  t.equal(late.statusCode, 504)
  t.same(late.json(), { error: 'Identity service timeout' })
  t.equal(refused.emulator.liveRooms().length + slow.emulator.liveRooms().length, 0, 'nothing was created')
})

t.test('with AUTH_SERVICE too: the identity service is asked about the token\'s user, with the token', async t => {
  const { startFakeIdentity } = await import('../identity/fixtures/fake-identity.js')
  const identity = await startFakeIdentity()
  t.teardown(() => identity.close())
  identity.users.set('office-1', { user_id: 'office-1', name: 'Front Office', groups: ['backoffice'] })
  identity.users.set('doctor-1', { user_id: 'doctor-1', name: 'Dr. Joe Smith', groups: ['doctor'] })
  identity.users.set('patient-1', { user_id: 'patient-1', name: 'Jane Doe', groups: ['patient'] })
  const server = await jwks(t)
  const ctx = await setup(t, { env: jwtEnv(server, { AUTH_SERVICE: identity.host }) })
  // The token claims no groups: the identity service's say who may write.
  const token = await tokenFor({ sub: 'office-1' }, { key: rsa })
  const res = await ctx.app.inject({ method: 'POST', url: '/teleconsultation', headers: { ...bearer(token), miauserid: 'doctor-1' }, payload: { participants: ['doctor-1', 'patient-1'], start_date: isoFromNow(HOUR), duration_in_seconds: 1800 } })
  t.equal(res.statusCode, 201, res.body)
  const asked = identity.requests.filter(r => r.path === '/users/office-1')
  t.ok(asked.length > 0, 'the caller looked up is the token\'s')
  t.equal(asked[0]?.headers.authorization, `Bearer ${token}`, 'with the token')
  t.equal(asked[0]?.headers.miauserid, 'office-1', 'and the token\'s user id header')
})

t.test('the key set is fetched again once AUTH_JWKS_CACHE_MS has passed: a withdrawn key stops verifying', async t => {
  const server = await jwks(t, [rsa])
  const ctx = await setup(t, { env: jwtEnv(server, { AUTH_JWKS_CACHE_MS: '1000' }) })
  const token = await tokenFor(officeClaims, { key: rsa })
  const get = async () => await ctx.app.inject({ method: 'GET', url: '/teleconsultation/unknown-id', headers: bearer(token) })
  t.equal((await get()).statusCode, 404, 'verified (the teleconsultation does not exist)')
  server.keys = [signingKey('key-3')]
  await new Promise(resolve => setTimeout(resolve, 1_100))
  t.equal((await get()).statusCode, 401, 'once the cached set is older than AUTH_JWKS_CACHE_MS, the withdrawn key no longer verifies')
  t.equal(server.fetches(), 2, 'the set was fetched again')
})
