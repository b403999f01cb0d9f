import Fastify from 'fastify'
import t from 'tap'
import { installErrorHandler } from '../../src/platform/error-handler.js'
import { BadSchedule, NoPlusUser } from '../../src/lib/errors.js'
import { setup } from '../helpers/app.js'
import { body, HOUR, isoFromNow, patient } from '../helpers/fixtures.js'

t.test('refusals are worded with the route\'s label, whatever SERVICE_PREFIX moves', async t => {
  const { app } = await setup(t, { env: { SERVICE_PREFIX: '/telecons-be' } })
  const refused = await app.inject({ method: 'POST', url: '/telecons-be/teleconsultation', payload: body({ participants: [patient('a'), patient('b')] }) })
  t.equal(refused.statusCode, 400)
  t.same(refused.json(), { error: 'Failed POST /teleconsultation: no plus user in room' })

  const id: string = (await app.inject({ method: 'POST', url: '/telecons-be/teleconsultation', payload: body({ start: isoFromNow(HOUR) }) })).json().roomId
  const noPlus = await app.inject({ method: 'PATCH', url: `/telecons-be/teleconsultation/${id}`, payload: { participants: { number: 2, data: [patient('a'), patient('b')] } } })
  t.same(noPlus.json(), { error: 'Failed PATCH /teleconsultation: no plus user in room' }, 'the PATCH label without the id, for this refusal only')
  const badDates = await app.inject({ method: 'PATCH', url: `/telecons-be/teleconsultation/${id}`, payload: { duration_in_seconds: 60 } })
  t.equal(badDates.statusCode, 400)
  t.same(badDates.json(), { error: `Failed PATCH /teleconsultation/${id}: the teleconsultation must last at least 5 minutes` })
})

t.test('a route without a wording of its own is labelled with its method and path', async t => {
  const app = Fastify()
  installErrorHandler(app)
  app.get('/things/:id', async () => { throw new BadSchedule('start_date is required') })
  app.post('/worded/:id', { config: { refusal: { label: 'POST /worded/:id/:missing', NoPlusUser: 'POST /worded' } } }, async request => {
    throw (request.body as { plus?: boolean }).plus === true ? new NoPlusUser() : new BadSchedule('end_date must be after start_date')
  })
  t.teardown(() => app.close())
  const plain = await app.inject({ method: 'GET', url: '/things/42' })
  t.equal(plain.statusCode, 400)
  t.same(plain.json(), { error: 'Failed GET /things/42: start_date is required' })
  const worded = await app.inject({ method: 'POST', url: '/worded/7', payload: {} })
  t.same(worded.json(), { error: 'Failed POST /worded/7/:missing: end_date must be after start_date' }, 'a parameter the route lacks stays as written')
  const quirk = await app.inject({ method: 'POST', url: '/worded/7', payload: { plus: true } })
  t.same(quirk.json(), { error: 'Failed POST /worded: no plus user in room' })
})
