import Fastify from 'fastify'
import t from 'tap'
import { loadConfig } from '../../src/config/index.js'
import { requestContext } from '../../src/identity/request-context.js'
import type { TokenVerifier } from '../../src/identity/token-verifier.js'

async function appWith (env: Record<string, string> = {}, verifier?: TokenVerifier) {
  const config = loadConfig({ BANDYER_BASE_URL: 'http://127.0.0.1:9', BANDYER_API_SECRET_KEY: 'k', ...env })
  const app = Fastify({ requestIdHeader: 'x-request-id' })
  await app.register(async api => {
    await api.register(requestContext, { config, verifier })
    // A route plugin beside the context plugin, as the API routes are registered.
    await api.register(async routes => {
      routes.get('/ctx', async request => {
        const { log, ...rest } = request.ctx
        return { ...rest, logs: typeof log.info === 'function' }
      })
    })
  }, { prefix: '/api' })
  app.get('/outside', async request => ({ ctx: request.ctx ?? null }))
  return app
}

t.test('the request context of an API route: caller, groups, client type, forwarded headers, request id, logger', async t => {
  const app = await appWith({ ADDITIONAL_HEADERS_TO_PROXY: 'x-tenant', DEFAULT_CLIENT_TYPE: 'backoffice' })
  t.teardown(() => app.close())
  const res = await app.inject({
    method: 'GET',
    url: '/api/ctx',
    headers: { miauserid: 'doctor-1', miausergroups: 'doctor, admin', cookie: 'sid=1', 'x-tenant': 'clinic', 'x-other': 'no', 'x-request-id': 'req-7' }
  })
  t.same(res.json(), {
    callerId: 'doctor-1',
    callerGroups: ['doctor', 'admin'],
    clientType: 'backoffice',
    forwardHeaders: { cookie: 'sid=1', 'client-type': 'backoffice', 'x-tenant': 'clinic' },
    platformHeaders: { miauserid: 'doctor-1', miausergroups: 'doctor,admin', 'client-type': 'backoffice', 'x-request-id': 'req-7', 'x-tenant': 'clinic' },
    requestId: 'req-7',
    logs: true
  })
  const own = await app.inject({ method: 'GET', url: '/api/ctx', headers: { 'client-type': 'mobile' } })
  t.match(own.json(), { callerId: null, callerGroups: [], clientType: 'mobile', forwardHeaders: { 'client-type': 'mobile' } })
  t.type(own.json().requestId, 'string', 'a generated request id without x-request-id')
  t.same((await app.inject({ method: 'GET', url: '/outside' })).json(), { ctx: null }, 'routes outside the API scope have none')
})

t.test('no client type without the header or DEFAULT_CLIENT_TYPE', async t => {
  const app = await appWith()
  t.teardown(() => app.close())
  t.match((await app.inject({ method: 'GET', url: '/api/ctx' })).json(), { clientType: null, forwardHeaders: {} })
})

t.test('a verified caller: the user headers of the request count for nothing, those forwarded are the token\'s', async t => {
  // A stand-in verifier: what a verified token named.
  const verifier: TokenVerifier = {
    verify: async authorization => {
      if (authorization !== 'Bearer good') throw new Error('the stand-in only knows one token')
      return { userId: 'office-1', groups: ['backoffice'] }
    },
    close: async () => {}
  }
  const app = await appWith({ ADDITIONAL_HEADERS_TO_PROXY: 'x-tenant,miauserid,miausergroups' }, verifier)
  t.teardown(() => app.close())
  const res = await app.inject({
    method: 'GET',
    url: '/api/ctx',
    headers: {
      authorization: 'Bearer good',
      miauserid: 'doctor-1',
      miausergroups: 'doctor,admin',
      miauserproperties: '{"admin":true}',
      isbackoffice: 'true',
      'x-tenant': 'clinic',
      'x-request-id': 'req-8'
    }
  })
  t.same(res.json(), {
    callerId: 'office-1',
    callerGroups: ['backoffice'],
    clientType: null,
    forwardHeaders: { authorization: 'Bearer good', 'x-tenant': 'clinic' },
    platformHeaders: { miauserid: 'office-1', miausergroups: 'backoffice', 'x-request-id': 'req-8', 'x-tenant': 'clinic' },
    requestId: 'req-8',
    logs: true
  })
})
