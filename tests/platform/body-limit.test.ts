import t from 'tap'
import { loadEnv } from '../../src/config/env.js'
import { setup } from '../helpers/app.js'
import { as, body } from '../helpers/fixtures.js'
import { background, jpeg, multipart } from '../settings/fixtures/multipart.js'

const admin = as('admin-1', ['admin'])

t.test('BODY_LIMIT_BYTES bounds JSON and form bodies (413, nothing done); uploads keep their own limit', async t => {
  const { app, emulator } = await setup(t, { env: { BODY_LIMIT_BYTES: '4KB' } })
  const padded = (bytes: number) => JSON.stringify({ ...body(), pad: 'x'.repeat(bytes) })

  const small = await app.inject({ method: 'POST', url: '/teleconsultation', headers: { 'content-type': 'application/json' }, payload: padded(2000) })
  t.equal(small.statusCode, 201, 'under the limit')
  const roomsBefore = emulator.liveRooms().length

  const big = await app.inject({ method: 'POST', url: '/teleconsultation', headers: { 'content-type': 'application/json' }, payload: padded(5000) })
  t.equal(big.statusCode, 413)
  t.match(big.json(), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', message: 'Request body is too large' })
  t.equal(emulator.liveRooms().length, roomsBefore, 'no room for a refused body')

  const form = await app.inject({ method: 'POST', url: '/credentials', headers: { ...as('doctor-1', ['doctor']), 'content-type': 'application/x-www-form-urlencoded' }, payload: `expiresIn=3600&pad=${'x'.repeat(5000)}` })
  t.equal(form.statusCode, 413, 'form bodies too')

  const image = multipart(background(jpeg(100_000)))
  const upload = await app.inject({ method: 'POST', url: '/settings/background-image', headers: { ...admin, ...image.headers }, payload: image.payload })
  t.equal(upload.statusCode, 200, 'a 100 KB background still uploads: multipart keeps its 10 MB limit')
})

t.test('BODY_LIMIT_BYTES: 1 MiB by default, bytes or a size, refused when not a size', async t => {
  const kaleyra = { BANDYER_API_SECRET_KEY: 'k', BANDYER_BASE_URL: 'https://api.sandbox.eu.bandyer.com' }
  t.equal(loadEnv(kaleyra).BODY_LIMIT_BYTES, '1048576')
  t.equal(loadEnv({ ...kaleyra, BODY_LIMIT_BYTES: '2MB' }).BODY_LIMIT_BYTES, '2MB')
  t.throws(() => loadEnv({ ...kaleyra, BODY_LIMIT_BYTES: 'lots' }), { name: 'ConfigError', message: 'BODY_LIMIT_BYTES must be a size like 50MB, 512KB or 1048576 (bytes)' })
  t.throws(() => loadEnv({ ...kaleyra, BODY_LIMIT_BYTES: '0' }), { name: 'ConfigError', message: /BODY_LIMIT_BYTES must be a positive size/ })
})

t.test('the default limit is 1 MiB', async t => {
  const { app } = await setup(t)
  const over = await app.inject({ method: 'POST', url: '/teleconsultation', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ ...body(), pad: 'x'.repeat(1024 * 1024) }) })
  t.equal(over.statusCode, 413)
  const under = await app.inject({ method: 'POST', url: '/teleconsultation', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ ...body(), pad: 'x'.repeat(1000 * 1000) }) })
  t.equal(under.statusCode, 201)
})
