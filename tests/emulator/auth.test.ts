import t from 'tap'
import { startHarness } from './fixtures/harness.js'

t.test('every /v2 route needs the right apikey header', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const routes: Array<['GET' | 'POST' | 'PUT' | 'DELETE', string]> = [
    ['GET', '/v2/users'], ['POST', '/v2/users'], ['GET', '/v2/users/x'], ['GET', '/v2/rooms'], ['POST', '/v2/rooms'],
    ['GET', '/v2/rooms/r'], ['DELETE', '/v2/rooms/r'], ['GET', '/v2/uploads'], ['DELETE', '/v2/uploads/k'],
    ['POST', '/v2/sdk/credentials'], ['GET', '/v2/company'], ['PUT', '/v2/company'], ['POST', '/v2/company/virtual-background'],
    ['GET', '/v2/company/virtual-backgrounds'], ['GET', '/v2/sessions'], ['GET', '/v2/sessions/s'], ['GET', '/v2/sessions/s/transcription'],
    ['GET', '/v2/nothing-here']
  ]
  for (const [method, path] of routes) {
    const missing = await h.obj(method, path, { apiKey: null, body: method === 'POST' || method === 'PUT' ? { role: 'plus' } : undefined })
    t.equal(missing.status, 401, `${method} ${path} without apikey`)
    t.equal(missing.body.error, 'invalid_api_key')
    t.type(missing.body.message, 'string')
    const wrong = await h.obj(method, path, { apiKey: 'ak_wrong' })
    t.equal(wrong.status, 401, `${method} ${path} with a wrong apikey`)
  }
  // Same length, different key: still refused.
  const sameLength = await h.call('GET', '/v2/users', { apiKey: 'ak_test_emulator_kez' })
  t.equal(sameLength.status, 401)
  t.equal(h.emu.users().length, 0, 'nothing was created without a key')

  const ok = await h.call('GET', '/v2/users')
  t.equal(ok.status, 200, 'the right key is accepted')
})

t.test('errors are JSON { error, message }', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())

  const malformed = await h.obj('POST', '/v2/users', { rawBody: '{"role": ', headers: { 'content-type': 'application/json' } })
  t.equal(malformed.status, 400, 'malformed JSON is a 400')
  t.equal(malformed.body.error, 'bad_request')
  t.type(malformed.body.message, 'string')

  const unknown = await h.obj('GET', '/v2/unknown')
  t.equal(unknown.status, 404)
  t.equal(unknown.body.error, 'not_found')

  const notJson = await h.obj('POST', '/v2/users', { rawBody: 'role=plus', headers: { 'content-type': 'text/plain' } })
  t.equal(notJson.status, 415)
  t.equal(notJson.body.error, 'unsupported_media_type')

  const noBody = await h.obj('POST', '/v2/users')
  t.equal(noBody.status, 422, 'a missing body is a validation error')
  t.equal(noBody.body.error, 'validation_error')

  const arrayBody = await h.obj('POST', '/v2/rooms', { body: [1, 2] })
  t.equal(arrayBody.status, 422)
  t.match(arrayBody.body.message, /JSON object/)
})

t.test('the request log lists API calls only, with their query and status', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  await h.call('GET', '/v2/users', { query: { offset: 0, limit: 5 } })
  await h.call('GET', '/v2/users/nobody')
  await h.call('GET', '/v2/company', { apiKey: null })
  await h.call('GET', '/_emulator/state')
  await h.call('GET', '/join/unknown-token')
  t.same(h.emu.requests(), [
    { method: 'GET', path: '/v2/users', query: { offset: '0', limit: '5' }, status: 200 },
    { method: 'GET', path: '/v2/users/nobody', query: {}, status: 404 },
    { method: 'GET', path: '/v2/company', query: {}, status: 401 }
  ])
  const copy = h.emu.requests()
  copy[0].status = 999
  t.equal(h.emu.requests()[0].status, 200, 'requests() returns a copy')
})
