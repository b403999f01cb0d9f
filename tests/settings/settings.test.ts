import { createHash } from 'node:crypto'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { Readable } from 'node:stream'
import t from 'tap'
import { request } from 'undici'
import { KALEYRA_FAULT_TIMEOUT, setup, startEmulator } from '../helpers/app.js'
import { as, body } from '../helpers/fixtures.js'
import { startKaleyraProxy } from '../helpers/kaleyra-proxy.js'
import { waitFor } from '../helpers/wait.js'
import { background, BOUNDARY, CLOSING, jpeg, multipart, partHead } from './fixtures/multipart.js'

const MB = 1024 * 1024
const admin = as('admin-1', ['admin'])

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex')

async function upload (app: Awaited<ReturnType<typeof setup>>['app'], form: ReturnType<typeof multipart>, headers: Record<string, string> = admin) {
  return await app.inject({ method: 'POST', url: '/settings/background-image', headers: { ...headers, ...form.headers }, payload: form.payload })
}

t.test('upload a background, then make it the company default', async t => {
  const { app, emulator } = await setup(t)
  const image = jpeg(200_000)
  const res = await upload(app, multipart({ name: 'note', data: 'a field before the file is fine' }, background(image)))
  t.equal(res.statusCode, 200)
  const { virtual_background: bg } = res.json()
  t.same(Object.keys(bg).sort(), ['background_alias', 'creation_date', 'url'])
  t.match(bg, { background_alias: /^[0-9a-f]{32}$/, url: `${emulator.url}/backgrounds/${String(bg.background_alias)}.jpg` })
  const stored = await request(bg.url)
  t.equal(sha(Buffer.from(await stored.body.arrayBuffer())), sha(image), 'Kaleyra received the exact bytes')

  const update = await app.inject({ method: 'PATCH', url: '/settings/update', headers: admin, payload: { background_alias: bg.background_alias } })
  t.equal(update.statusCode, 200)
  t.same(update.json(), {
    company: {
      name: 'Emulated Company',
      default_language: 'en',
      default_background: { alias: bg.background_alias, url: bg.url, creation_date: bg.creation_date },
      end_call_redirect_url: '',
      user_details_provider_url: '',
      end_call_redirect_timeout_ms: 5000
    }
  })
})

t.test('exactly 10 MB is accepted; 10 MB + 1 byte is a 413 and creates nothing', async t => {
  const { app, emulator } = await setup(t)
  const ok = await upload(app, multipart(background(jpeg(10 * MB))))
  t.equal(ok.statusCode, 200)

  const big = await upload(app, multipart(background(jpeg(10 * MB + 1))))
  t.equal(big.statusCode, 413)
  t.same(big.json(), { error: 'Failed POST /settings/background-image: the file is larger than 10 MB' })
  t.equal(big.headers.connection, 'close', 'the rest of the upload is not read')
  const listed = await (await request(`${emulator.url}/v2/company/virtual-backgrounds`, { headers: { apikey: emulator.apiKey } })).body.json() as { virtual_backgrounds: unknown[] }
  t.equal(listed.virtual_backgrounds.length, 1, 'the oversized upload was aborted on the way to Kaleyra')
})

t.test('multipart edge cases are 4xx with a clear message and upload nothing', async t => {
  const { app, emulator, logs } = await setup(t)
  const cases: Array<{ name: string, form: ReturnType<typeof multipart>, status: number, error: RegExp }> = [
    { name: 'missing field (other name)', form: multipart(background(jpeg(100), 'image/jpeg', 'image')), status: 400, error: /multipart field virtual_background is required/ },
    { name: 'no file at all', form: multipart({ name: 'virtual_background', data: 'not a file' }), status: 400, error: /multipart field virtual_background is required/ },
    { name: 'no part at all', form: { payload: Buffer.from(`--${BOUNDARY}--\r\n`), headers: multipart().headers }, status: 400, error: /multipart field virtual_background is required/ },
    { name: 'declared PNG', form: multipart(background(jpeg(100), 'image/png')), status: 415, error: /must be a JPEG image \(image\/jpeg\), not image\/png/ },
    { name: 'declared JPEG but PNG bytes', form: multipart(background(Buffer.from('\x89PNG\r\n\x1a\n0000', 'latin1'))), status: 415, error: /is not a JPEG image/ },
    { name: 'two bytes', form: multipart(background(Buffer.from([0xff, 0xd8]))), status: 415, error: /is not a JPEG image/ },
    { name: 'empty file', form: multipart(background(Buffer.alloc(0))), status: 400, error: /the virtual_background file is empty/ },
    {
      name: 'truncated body',
      form: {
        payload: Buffer.concat([Buffer.from(partHead(background(Buffer.alloc(0)))), jpeg(70_000)]),
        headers: multipart().headers
      },
      status: 400,
      error: /interrupted or is malformed|malformed multipart body/
    },
    { name: 'no boundary', form: { payload: Buffer.from('x'), headers: { 'content-type': 'multipart/form-data' } }, status: 400, error: /malformed multipart body/ }
  ]
  for (const c of cases) {
    const res = await upload(app, c.form)
    t.equal(res.statusCode, c.status, c.name)
    t.match(res.json().error, c.error, c.name)
  }
  const json = await app.inject({ method: 'POST', url: '/settings/background-image', headers: admin, payload: { virtual_background: 'x' } })
  t.equal(json.statusCode, 415)
  t.match(json.json().error, /expected multipart\/form-data/)
  const listed = await (await request(`${emulator.url}/v2/company/virtual-backgrounds`, { headers: { apikey: emulator.apiKey } })).body.json()
  t.same(listed, { virtual_backgrounds: [] }, 'no background was created')
  t.same(logs.records().filter(r => Number(r.level) >= 50), [], 'none of them passes for a server or upstream failure')
})

t.test('the file is streamed to Kaleyra while it is still arriving', async t => {
  const emulator = await startEmulator(t)
  const proxy = await startKaleyraProxy(emulator.url)
  t.teardown(() => proxy.close())
  const { app } = await setup(t, { emulator, env: { BANDYER_BASE_URL: proxy.url } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  const image = jpeg(6 * MB)
  const toKaleyra = /^\/v2\/company\/virtual-background$/

  async function * slowClient (): AsyncGenerator<Buffer> {
    yield Buffer.from(partHead(background(image)))
    yield image.subarray(0, 3 * MB)
    // Holding the second half back: Kaleyra must already be receiving the first one.
    await waitFor('the first half to reach Kaleyra', () => proxy.requestBytes(toKaleyra) > 2 * MB)
    yield image.subarray(3 * MB)
    yield Buffer.from(CLOSING)
  }
  const res = await request(`http://127.0.0.1:${port}/settings/background-image`, {
    method: 'POST', headers: { ...admin, ...multipart().headers }, body: Readable.from(slowClient())
  })
  t.equal(res.statusCode, 200)
  const { virtual_background: bg } = (await res.body.json()) as { virtual_background: { url: string } }
  t.equal(
    sha(Buffer.from(await (await request(bg.url.replace(emulator.url, proxy.url))).body.arrayBuffer())),
    sha(image)
  )
})

t.test('a slow client is not a Kaleyra timeout: the deadline counts once the file has been sent', async t => {
  // Long enough for Kaleyra to answer once it has the file, even on a loaded machine.
  const deadlineMs = 2_000
  const { app, emulator } = await setup(t, { env: { KALEYRA_TIMEOUT_MS: String(deadlineMs) } })
  // The hang below needs a short deadline: an instance of its own, on the same Kaleyra.
  const { app: impatient } = await setup(t, { emulator, env: KALEYRA_FAULT_TIMEOUT })
  const image = jpeg(2 * MB)
  const post = async (to: typeof app, body: AsyncIterable<Buffer>) => {
    if (to.server.address() === null) await to.listen({ host: '127.0.0.1', port: 0 })
    const { port } = to.server.address() as AddressInfo
    return await request(`http://127.0.0.1:${port}/settings/background-image`, {
      method: 'POST', headers: { ...admin, ...multipart().headers }, body: Readable.from(body)
    })
  }

  async function * pausingClient (): AsyncGenerator<Buffer> {
    yield Buffer.from(partHead(background(image)))
    yield image.subarray(0, MB)
    // A phone on a poor network: the upload takes longer than KALEYRA_TIMEOUT_MS, Kaleyra is fine.
    // The pause is counted from Kaleyra receiving the upload, so a deadline started with the
    // call, rather than after its last byte, would certainly expire during it.
    await waitFor('the upload to reach Kaleyra', () => emulator.requests().some(r => r.path === '/v2/company/virtual-background'))
    await new Promise(resolve => setTimeout(resolve, deadlineMs + 500))
    yield image.subarray(MB)
    yield Buffer.from(CLOSING)
  }
  const res = await post(app, pausingClient())
  t.equal(res.statusCode, 200)
  const { virtual_background: bg } = await res.body.json() as { virtual_background: { url: string } }
  t.equal(sha(Buffer.from(await (await request(bg.url)).body.arrayBuffer())), sha(image))

  // Kaleyra not answering once it has the whole file is still a timeout.
  emulator.faults.add({ method: 'POST', path: '/v2/company/virtual-background', kind: 'hang', times: 1 })
  async function * wholeFile (): AsyncGenerator<Buffer> {
    yield Buffer.from(partHead(background(image)))
    yield image
    yield Buffer.from(CLOSING)
  }
  const hung = await post(impatient, wholeFile())
  t.equal(hung.statusCode, 504)
  t.same(await hung.body.json(), { error: 'Kaleyra service timeout' })
})

t.test('authentication and SETTINGS_ADMIN_GROUPS', async t => {
  const { app, emulator } = await setup(t, { env: { SETTINGS_ADMIN_GROUPS: 'admin, it-staff' } })
  const form = multipart(background(jpeg(100)))

  const anonymous = await upload(app, form, {})
  t.equal(anonymous.statusCode, 401)
  t.same(anonymous.json(), { error: 'Unauthorized user' })
  const outsider = await upload(app, form, as('doctor-1', ['doctor']))
  t.equal(outsider.statusCode, 403)
  t.same(outsider.json(), { error: 'Forbidden' })
  t.equal(emulator.requests().length, 0, 'refused uploads never reach Kaleyra')

  const staff = await upload(app, form, as('it-1', ['doctor', 'it-staff']))
  t.equal(staff.statusCode, 200)
  const alias = staff.json().virtual_background.background_alias

  t.equal((await app.inject({ method: 'PATCH', url: '/settings/update', payload: { background_alias: alias } })).statusCode, 401)
  const forbidden = await app.inject({ method: 'PATCH', url: '/settings/update', headers: as('doctor-1', ['doctor']), payload: { background_alias: alias } })
  t.equal(forbidden.statusCode, 403)
  t.same(forbidden.json(), { error: 'Forbidden' })
  t.equal((await app.inject({ method: 'PATCH', url: '/settings/update', headers: admin, payload: { background_alias: alias } })).statusCode, 200)
})

t.test('without SETTINGS_ADMIN_GROUPS any authenticated user may change the settings', async t => {
  const { app } = await setup(t)
  t.equal((await upload(app, multipart(background(jpeg(100))), as('someone'))).statusCode, 200)
})

t.test('PATCH /settings/update refuses bad aliases with 400', async t => {
  const { app, emulator } = await setup(t)
  const unknown = await app.inject({ method: 'PATCH', url: '/settings/update', headers: admin, payload: { background_alias: '3e4d0683d78be3a884b7a60028644f57' } })
  t.equal(unknown.statusCode, 400)
  t.same(unknown.json(), { error: 'Failed PATCH /settings/update: 3e4d0683d78be3a884b7a60028644f57 is not a virtual background of the company' })
  for (const payload of [{}, { background_alias: '' }, { background_alias: '../company' }, { background_alias: 7 }]) {
    const res = await app.inject({ method: 'PATCH', url: '/settings/update', headers: admin, payload })
    t.equal(res.statusCode, 400, JSON.stringify(payload))
    t.match(res.json().message, /body/)
  }
  t.equal(emulator.requests().filter(r => r.method === 'PUT').length, 1, 'invalid bodies never reach Kaleyra')
})

t.test('Kaleyra failing: 502, or 504 when it does not answer', async t => {
  const { app, emulator } = await setup(t)
  // The hangs need a short deadline: an instance of its own, on the same Kaleyra.
  const { app: impatient } = await setup(t, { emulator, env: KALEYRA_FAULT_TIMEOUT })
  const form = multipart(background(jpeg(50_000)))
  emulator.faults.add({ method: 'POST', path: '/v2/company/virtual-background', kind: 'status', status: 500, times: 1 })
  const failed = await upload(app, form)
  t.equal(failed.statusCode, 502)
  t.same(failed.json(), { error: 'Kaleyra service error' })

  emulator.faults.add({ method: 'POST', path: '/v2/company/virtual-background', kind: 'hang', times: 1 })
  const slow = await upload(impatient, form)
  t.equal(slow.statusCode, 504)
  t.same(slow.json(), { error: 'Kaleyra service timeout' })

  const uploaded = await upload(impatient, form)
  t.equal(uploaded.statusCode, 200, 'the next upload works')
  const alias = uploaded.json().virtual_background.background_alias
  emulator.faults.add({ method: 'PUT', path: '/v2/company', kind: 'status', status: 503 })
  t.equal((await app.inject({ method: 'PATCH', url: '/settings/update', headers: admin, payload: { background_alias: alias } })).statusCode, 502)
  emulator.faults.clear()
  emulator.faults.add({ method: 'PUT', path: '/v2/company', kind: 'hang' })
  t.equal((await impatient.inject({ method: 'PATCH', url: '/settings/update', headers: admin, payload: { background_alias: alias } })).statusCode, 504)

  emulator.faults.clear()
  for (let i = 0; i < 9; i++) t.equal((await upload(app, form)).statusCode, 200)
  const eleventh = await upload(app, form)
  t.equal(eleventh.statusCode, 400, 'Kaleyra refusing the image (10 per company) is a 400')
  t.match(eleventh.json().error, /^Failed POST \/settings\/background-image: Kaleyra refused the image \(validation_error\)$/)
})

t.test('70 uploads held open by slow clients: the other Kaleyra calls still answer (uploads have their own pool)', async t => {
  // 70 callers, one upload each (one caller alone is held to UPLOADS_PER_CALLER).
  const { app, emulator } = await setup(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  const image = jpeg(MB)
  const stop = new AbortController()
  let release = (): void => {}
  const released = new Promise<void>(resolve => { release = resolve })
  async function * stuck (): AsyncGenerator<Buffer> {
    yield Buffer.from(partHead(background(image)))
    yield image.subarray(0, 1024)
    await released
  }
  const uploads = Array.from({ length: 70 }, async (_, i) => await request(`http://127.0.0.1:${port}/settings/background-image`, {
    method: 'POST', headers: { ...as(`admin-${i}`, ['admin']), ...multipart().headers }, body: Readable.from(stuck()), signal: stop.signal
  }).catch(() => null))
  t.teardown(async () => { stop.abort(); release(); await Promise.all(uploads) })
  await waitFor('the uploads to hold Kaleyra connections', () => emulator.requests().filter(r => r.path === '/v2/company/virtual-background').length >= 16)

  const created = await app.inject({ method: 'POST', url: '/teleconsultation', payload: body() })
  t.equal(created.statusCode, 201, 'a teleconsultation is created meanwhile')
  const id: string = created.json().roomId
  t.equal((await app.inject({ method: 'GET', url: `/teleconsultation/${id}`, headers: as('doctor-1') })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/-/check-up' })).statusCode, 200, 'the Kaleyra check answers (only /-/check-up asks Kaleyra)')
})

/** A raw connection that sends `text` and then nothing: resolves with what the server answered once it closes. */
function stalledUpload (port: number, ...parts: Array<string | Buffer>): { answer: Promise<string>, socket: Socket } {
  const socket = connect(port, '127.0.0.1', () => { socket.write(Buffer.concat(parts.map(p => Buffer.from(p)))) })
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  socket.on('error', () => {})
  const answer = new Promise<string>(resolve => socket.once('close', () => resolve(Buffer.concat(chunks).toString('latin1'))))
  return { answer, socket }
}

function uploadHead (headers: Record<string, string>, length: number): string {
  const lines = Object.entries({ ...headers, ...multipart().headers, host: '127.0.0.1', 'content-length': String(length) }).map(([k, v]) => `${k}: ${v}`)
  return `POST /settings/background-image HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`
}

t.test('an upload whose client stops sending is abandoned after UPLOAD_IDLE_TIMEOUT_MS: 408, the upload to Kaleyra aborted, nothing stored', async t => {
  const { app, emulator } = await setup(t, { env: { UPLOAD_IDLE_TIMEOUT_MS: '300' } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  const image = jpeg(MB)
  const head = uploadHead(admin, MB * 2)

  // Stalled inside the file, once part of it has been passed on to Kaleyra.
  const inFile = stalledUpload(port, head, partHead(background(image)), image.subarray(0, 64 * 1024))
  // Stalled before the file part even started.
  const beforeFile = stalledUpload(port, head + '--' + BOUNDARY.slice(0, 5))
  t.teardown(() => { inFile.socket.destroy(); beforeFile.socket.destroy() })
  const [inFileAnswer, beforeFileAnswer] = await Promise.all([inFile.answer, beforeFile.answer])
  for (const answer of [inFileAnswer, beforeFileAnswer]) {
    t.match(answer, /^HTTP\/1\.1 408 /, '408')
    t.match(answer, /nothing of the upload arrived for 300 ms/, 'a message saying why')
  }
  t.equal(emulator.requests().filter(r => r.path === '/v2/company/virtual-background').length, 1, 'only the upload stalled inside the file reached Kaleyra')
  const listed = await (await request(`${emulator.url}/v2/company/virtual-backgrounds`, { headers: { apikey: emulator.apiKey } })).body.json() as { virtual_backgrounds: unknown[] }
  t.same(listed.virtual_backgrounds, [], 'no partial file at Kaleyra')
  t.equal((await upload(app, multipart(background(jpeg(50_000))))).statusCode, 200, 'the next upload of the caller works')
})

t.test(
  'one caller has at most UPLOADS_PER_CALLER uploads in progress: one more is 429 with Retry-After and sends nothing',
  async t => {
    const { app, emulator } = await setup(t, { env: { UPLOADS_PER_CALLER: '2' } })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as AddressInfo
    const image = jpeg(MB)
    const held = [0, 1].map(() =>
      stalledUpload(port, uploadHead(admin, MB * 2), partHead(background(image)), image.subarray(0, 1024))
    )
    t.teardown(() => {
      for (const h of held) h.socket.destroy()
    })
    await waitFor(
      'both uploads to reach Kaleyra',
      () => emulator.requests().filter(r => r.path === '/v2/company/virtual-background').length >= 2
    )

    const third = await upload(app, multipart(background(jpeg(50_000))))
    t.equal(third.statusCode, 429)
    t.same(third.json(), { error: 'Failed POST /settings/background-image: the caller already has 2 uploads in progress, retry when one has ended' })
    t.equal(third.headers['retry-after'], '5')
    t.equal(emulator.requests().filter(r => r.path === '/v2/company/virtual-background').length, 2, 'the refused upload sent nothing to Kaleyra')
    t.equal((await upload(app, multipart(background(jpeg(50_000))), as('admin-2', ['admin']))).statusCode, 200, 'another caller uploads meanwhile')

    held[0].socket.destroy()
    await held[0].answer
    await waitFor('the slot to be released', async () => (await upload(app, multipart(background(jpeg(50_000))))).statusCode === 200)
    t.pass('once one of its uploads ends, the caller uploads again')
  })
