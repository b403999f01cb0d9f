// Route schemas are compiled on a route's first request, not at start-up (src/lib/validation.ts,
// src/lib/serialization.ts). Start-up no longer proves that every schema compiles; this does.
import t from 'tap'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import type { FastifySchema, RouteOptions } from 'fastify'
import { createValidatorCompiler } from '../../src/lib/validation.js'
import { as, body } from '../helpers/fixtures.js'
import { setup } from '../helpers/app.js'

const REQUEST_PARTS = ['body', 'querystring', 'params', 'headers'] as const

t.test('every route\'s request schemas compile with the service\'s validators, and every response schema with Fastify\'s serializer', async t => {
  const routes: RouteOptions[] = []
  await setup(t, {
    env: { KALEYRA_WEBHOOKS: 'true', DEFAULT_RECORDING_TYPE: 'automatic' },
    overrides: { onRoute: route => { routes.push(route) } }
  })
  const names = routes.map(r => `${String(r.method)} ${r.url}`)
  for (const expected of ['POST /teleconsultation', 'GET /teleconsultation/:id', 'POST /webhooks/kaleyra', 'GET /recording/:roomId/:sessionId']) {
    t.ok(names.includes(expected), `${expected} is among the routes`)
  }

  const compileValidator = createValidatorCompiler()
  const compileSerializer = SerializerSelector()(undefined, {})
  let requestSchemas = 0
  let responseSchemas = 0
  for (const route of routes) {
    const schema: FastifySchema = route.schema ?? {}
    for (const httpPart of REQUEST_PARTS) {
      const part = schema[httpPart]
      if (part === undefined) continue
      requestSchemas++
      const validate = compileValidator({ schema: part, method: String(route.method), url: route.url, httpPart })
      // The first call compiles: a schema Ajv refuses throws here.
      t.doesNotThrow(() => validate({}), `${String(route.method)} ${route.url} ${httpPart}`)
    }
    for (const [httpStatus, response] of Object.entries((schema.response ?? {}) as Record<string, unknown>)) {
      const content = (response as { content?: Record<string, { schema: unknown }> }).content
      const schemas = content !== undefined ? Object.values(content).map(c => c.schema) : [response]
      for (const responseSchema of schemas) {
        responseSchemas++
        t.doesNotThrow(() => compileSerializer({ schema: responseSchema, method: String(route.method), url: route.url, httpStatus }), `${String(route.method)} ${route.url} ${httpStatus}`)
      }
    }
  }
  t.ok(requestSchemas >= 20, `${requestSchemas} request schemas compiled`)
  t.ok(responseSchemas >= 50, `${responseSchemas} response schemas compiled`)
})

t.test('a route\'s first request is validated and serialized as every later one', async t => {
  const { app } = await setup(t)
  const bad = { start_date: new Date().toISOString(), duration_in_seconds: 3600 }
  const refusals = []
  for (let i = 0; i < 2; i++) refusals.push(await app.inject({ method: 'POST', url: '/teleconsultation', payload: bad }))
  for (const res of refusals) {
    t.equal(res.statusCode, 400)
    t.match(res.json().message, /body must have required property 'participants'/)
  }
  t.same(refusals[0].json(), refusals[1].json(), 'the first refusal is the same as the second')

  const created = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  t.equal(created.statusCode, 201)
  const { roomId } = created.json()
  const polls = []
  for (let i = 0; i < 2; i++) polls.push(await app.inject({ method: 'GET', url: `/teleconsultation/${roomId}`, headers: as('doctor-1') }))
  for (const res of polls) t.equal(res.statusCode, 200)
  // The response schema drops what it does not declare; the first answer is already shaped by it.
  t.same(Object.keys(polls[0].json()).sort(), Object.keys(polls[1].json()).sort())
  t.type(polls[0].json().accessLinkURL, 'string', 'the first answer carries the caller\'s link')
  t.type(polls[0].json().details.creationDate, 'string')
})
