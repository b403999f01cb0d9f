import t from 'tap'
import { setup } from '../helpers/app.js'

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
    ['/credentials', 'post', ['201', '400', '401', '403', '502', '504']],
    ['/settings/background-image', 'post', ['200', '400', '401', '403', '413', '415', '502', '504']],
    ['/settings/update', 'patch', ['200', '400', '401', '403', '502', '504']],
    ['/transcription/{roomId}/{sessionId}', 'get', ['200', '400', '401', '404', '409', '413', '502', '504']]
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
  t.same(spec.tags.map((tag: { name: string }) => tag.name), ['Teleconsultations', 'Credentials', 'Settings', 'Transcriptions'])
  t.notOk(spec.paths['/-/healthz'], 'status routes are hidden')
  const ui = await app.inject({ method: 'GET', url: '/documentation/' })
  t.equal(ui.statusCode, 200)
})
