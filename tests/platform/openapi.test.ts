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
    ['/teleconsultation/{id}/participants/data', 'post', ['201', '400', '404', '409']]
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
  t.notOk(spec.paths['/-/healthz'], 'status routes are hidden')
  const ui = await app.inject({ method: 'GET', url: '/documentation/' })
  t.equal(ui.statusCode, 200)
})
