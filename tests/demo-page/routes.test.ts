import t from 'tap'
import { setup } from '../helpers/app.js'

const DEMO = { KALEYRA_EMULATOR: 'true' }

t.test('in demo mode, /demo/ serves the waiting room pages and what they need to know', async t => {
  const { app } = await setup(t, { env: { ...DEMO, SERVICE_PREFIX: '/telecons-be/' } })

  const index = await app.inject('/demo/')
  t.equal(index.statusCode, 200)
  t.match(index.headers['content-type'], /^text\/html/)
  t.match(index.body, '<script type="module" src="demo.js"></script>')
  t.equal((await app.inject('/demo')).headers.location, '/demo/', '/demo goes to /demo/')

  const room = await app.inject('/demo/waiting-room.html')
  t.equal(room.statusCode, 200)
  t.match(room.body, 'id="call-frame"')
  const script = await app.inject('/demo/waiting-room.js')
  t.match(script.headers['content-type'], /^text\/javascript/)
  t.match(script.body, 'accessLinkURL')

  const config = await app.inject('/demo/config.json')
  t.equal(config.statusCode, 200)
  t.match(config.json(), {
    apiBase: '/telecons-be',
    userHeader: 'miauserid',
    groupsHeader: 'miausergroups',
    participants: [{ userId: 'doctor-1', groups: ['doctor'], fullName: 'Dr. Joe Smith' }, { userId: 'patient-1', groups: ['patient'] }]
  })

  for (const path of ['/demo/routes.ts', '/demo/..%2Fpackage.json', '/demo/nothing.js']) {
    t.equal((await app.inject(path)).statusCode, 404, `${path}: only the page's files`)
  }
  const openapi = (await app.inject('/documentation/json')).json() as { paths: Record<string, unknown> }
  t.notOk(Object.keys(openapi.paths).some(p => p.startsWith('/demo')), 'not part of the API document')
})

t.test('outside demo mode there is no /demo/ at all', async t => {
  const { app } = await setup(t)
  for (const path of ['/demo/', '/demo', '/demo/config.json', '/demo/waiting-room.js']) {
    t.equal((await app.inject(path)).statusCode, 404, path)
  }
})
