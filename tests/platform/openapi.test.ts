import { STATUS_CODES } from 'node:http'
import t from 'tap'
import { DEFAULT_CONFIG_FILE, setup } from '../helpers/app.js'

t.test('every public route is documented with its schemas and examples', async t => {
  const { app } = await setup(t)
  const res = await app.inject({ method: 'GET', url: '/documentation/json' })
  t.equal(res.statusCode, 200)
  const spec = res.json()
  t.match(spec.openapi, /^3\./)
  const expected: Array<[string, string, string[]]> = [
    ['/teleconsultation', 'post', ['201', '400', '502', '504']],
    ['/teleconsultation/{id}', 'patch', ['204', '400', '404', '409', '502', '504']],
    ['/teleconsultation/{id}', 'get', ['200', '401', '404']],
    ['/teleconsultation/{id}', 'delete', ['204', '404', '502']],
    ['/teleconsultation/{id}/participants/data', 'post', ['201', '400', '404', '409']],
    ['/teleconsultation/{id}/uploads', 'delete', ['200', '204', '401', '404', '502', '504']],
    ['/credentials', 'post', ['201', '400', '401', '502', '504']],
    ['/settings/background-image', 'post', ['200', '400', '401', '403', '413', '415', '502', '504']],
    ['/settings/update', 'patch', ['200', '400', '401', '403', '502', '504']],
    ['/transcription/{roomId}/{sessionId}', 'get', ['200', '400', '401', '404', '409', '413', '502', '504']],
    ['/recording/{roomId}/{sessionId}', 'get', ['200', '400', '401', '404', '409', '502', '503', '504']],
    ['/teleconsultation/{id}/sessions', 'get', ['200', '400', '401', '404', '502', '503', '504']]
  ]
  for (const [path, method, statuses] of expected) {
    const op = spec.paths[path]?.[method]
    t.ok(op, `${method.toUpperCase()} ${path} is documented`)
    t.ok(op.summary, 'with a summary')
    for (const status of statuses) t.ok(op.responses[status], `${method.toUpperCase()} ${path} documents ${status}`)
  }
  const create = spec.paths['/teleconsultation'].post
  t.ok(create.requestBody.content['application/json'].schema.properties.participants)
  t.ok(JSON.stringify(create).includes('"example'), 'the body carries examples')
  for (const [path, method, statuses] of expected) {
    const op = spec.paths[path][method]
    const success = op.responses[statuses[0]]
    if (success.description !== 'No content') t.ok(success.content?.['application/json']?.schema, `${method.toUpperCase()} ${path} has a response schema`)
    t.ok(op.tags?.length > 0, `${method.toUpperCase()} ${path} is tagged`)
  }
  const upload = spec.paths['/settings/background-image'].post.requestBody.content['multipart/form-data'].schema
  t.same(upload.properties.virtual_background, { type: 'string', format: 'binary', description: upload.properties.virtual_background.description })
  t.ok(spec.paths['/settings/update'].patch.requestBody.content['application/json'].schema.properties.background_alias)
  t.ok(spec.paths['/credentials'].post.requestBody.content['application/json'].schema.properties.expiresIn)
  t.same(spec.tags.map((tag: { name: string }) => tag.name), ['Teleconsultations', 'Credentials', 'Settings', 'Transcriptions', 'Recordings'])
  t.notOk(spec.paths['/-/healthz'], 'status routes are hidden')
  const ui = await app.inject({ method: 'GET', url: '/documentation/' })
  t.equal(ui.statusCode, 200)
})

/** Fastify's own messages: they belong in `message` of its `{ statusCode, code, error, message }` shape. */
const FASTIFY_MESSAGE = /^(body|params|querystring|headers)\b|^Request body is too large$|^Unsupported Media Type$|^Body is not valid JSON/

t.test('error examples have the shape the service answers, and name the route they document', async t => {
  const { app } = await setup(t)
  const spec = (await app.inject({ method: 'GET', url: '/documentation/json' })).json()
  const ids = /\b[0-9a-f]{24}\b/g
  for (const [path, operations] of Object.entries<
    Record<
      string,
      {
        responses: Record<
          string,
          { content?: Record<string, { example?: unknown; examples?: Record<string, { value: unknown }> }> }
        >
      }
    >
  >(spec.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue
        const media = response.content?.['application/json']
        const examples = [media?.example, ...Object.values(media?.examples ?? {}).map(e => e.value)].filter(
          e => e !== undefined
        ) as Array<Record<string, unknown>>
        const where = `${method.toUpperCase()} ${path} ${status}`
        t.ok(examples.length > 0, `${where} has an example`)
        for (const example of examples) {
          if (Object.keys(example).length === 1) {
            t.type(example.error, 'string', `${where}: a service error is { error }`)
            t.notMatch(example.error, FASTIFY_MESSAGE, `${where}: "${String(example.error)}" is a Fastify message, not a service error`)
            const named = /^Failed (\w+) (\S+?):/.exec(String(example.error))
            if (named !== null) {
              t.equal(named[1], method.toUpperCase(), `${where}: the example names this method`)
              t.ok(path.startsWith(named[2].replace(ids, '{id}')), `${where}: the example names this route (${named[2]})`)
            }
          } else {
            t.same(Object.keys(example).sort(), ['code', 'error', 'message', 'statusCode'], `${where}: Fastify's shape`)
            t.equal(example.statusCode, Number(status), `${where}: statusCode`)
            t.equal(example.error, STATUS_CODES[status], `${where}: error is the reason phrase`)
            t.match(example.code, /^FST_ERR_/, `${where}: code`)
          }
        }
      }
    }
  }
})

t.test('routes acting for the caller document the user headers as security schemes, named as configured', async t => {
  const documented = async (env: Record<string, string>, serviceConfig?: object) => {
    const { app } = await setup(t, { env, serviceConfig })
    return (await app.inject({ method: 'GET', url: '/documentation/json' })).json()
  }
  const spec = await documented({})
  t.match(spec.components.securitySchemes, {
    caller: { type: 'apiKey', in: 'header', name: 'miauserid' },
    callerGroups: { type: 'apiKey', in: 'header', name: 'miausergroups' }
  })
  const security = (path: string, method: string) => spec.paths[path][method].security
  t.same(security('/teleconsultation/{id}', 'get'), [{ caller: [], callerGroups: [] }], 'GET: the caller and their groups (background)')
  t.same(security('/credentials', 'post'), [{ caller: [], callerGroups: [] }])
  t.same(security('/settings/update', 'patch'), [{ caller: [], callerGroups: [] }])
  t.same(security('/teleconsultation/{id}/uploads', 'delete'), [{ caller: [] }])
  t.same(security('/transcription/{roomId}/{sessionId}', 'get'), [{ caller: [] }])
  t.same(security('/recording/{roomId}/{sessionId}', 'get'), [{ caller: [] }])
  t.same(security('/teleconsultation/{id}/sessions', 'get'), [{ caller: [] }])
  t.equal(security('/teleconsultation', 'post'), undefined, 'creating needs no caller')

  const renamed = await documented({ USERID_HEADER_KEY: 'x-user-id', GROUPS_HEADER_KEY: 'x-user-groups' })
  t.match(renamed.components.securitySchemes, { caller: { name: 'x-user-id' }, callerGroups: { name: 'x-user-groups' } })

  const fromProperties = await documented({}, {
    ...DEFAULT_CONFIG_FILE,
    userIdPathInRequest: [{ from: 'object', extract: 'headers' }, { from: 'object', extract: 'miauserproperties' }, { from: 'json', extract: 'id' }]
  })
  t.match(fromProperties.components.securitySchemes.caller, { in: 'header', name: 'miauserproperties', description: /headers\.miauserproperties\.id/ })
})
