import { Readable } from 'node:stream'
import t from 'tap'
import { FormData, request } from 'undici'
import { API_KEY, startHarness, type Harness } from './fixtures/harness.js'

const MB = 1024 * 1024

export function jpeg (size = 2048): Buffer {
  const buf = Buffer.alloc(size, 0x11)
  buf[0] = 0xff; buf[1] = 0xd8; buf[2] = 0xff
  return buf
}

async function upload (
  h: Harness,
  file: Buffer,
  opts: { type?: string; field?: string } = {}
): Promise<{ status: number; body: Record<string, any> }> {
  const form = new FormData()
  form.append(opts.field ?? 'virtual_background', new Blob([file], { type: opts.type ?? 'image/jpeg' }), 'bg.jpg')
  const res = await request(`${h.emu.url}/v2/company/virtual-background`, { method: 'POST', body: form, headers: { apikey: API_KEY }, dispatcher: h.dispatcher })
  const text = await res.body.text()
  return { status: res.statusCode, body: JSON.parse(text) }
}

t.test('GET /v2/company starts with the documented defaults', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const res = await h.obj('GET', '/v2/company')
  t.equal(res.status, 200)
  t.same(res.body, {
    name: 'Emulated Company',
    default_language: 'en',
    default_background: null,
    end_call_redirect_url: '',
    user_details_provider_url: '',
    end_call_redirect_timeout_ms: 5000
  })
})

t.test('virtual backgrounds: upload, list, serve, set as default', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const image = jpeg(4096)
  const up = await upload(h, image)
  t.equal(up.status, 201)
  t.match(up.body.alias, /^[0-9a-f]{32}$/)
  t.equal(up.body.url, `${h.emu.url}/backgrounds/${up.body.alias}.jpg`)
  t.ok(!Number.isNaN(Date.parse(up.body.creation_date)))

  const jpgType = await upload(h, jpeg(), { type: 'image/jpg' })
  t.equal(jpgType.status, 201, 'image/jpg is accepted too')

  const served = await request(up.body.url)
  t.equal(served.statusCode, 200)
  t.equal(served.headers['content-type'], 'image/jpeg')
  t.ok(Buffer.from(await served.body.arrayBuffer()).equals(image), 'the image is served as uploaded, without apikey')
  const missing = await request(`${h.emu.url}/backgrounds/${'0'.repeat(32)}.jpg`, { dispatcher: h.dispatcher })
  t.equal(missing.statusCode, 404)
  await missing.body.dump()

  const list = await h.obj('GET', '/v2/company/virtual-backgrounds')
  t.same(list.body.virtual_backgrounds.map((b: { alias: string }) => b.alias), [up.body.alias, jpgType.body.alias])

  const unknown = await h.obj('PUT', '/v2/company', { body: { background_alias: 'f'.repeat(32) } })
  t.equal(unknown.status, 422, 'an alias that was never uploaded is refused')
  t.equal(unknown.body.error, 'validation_error')
  const extra = await h.obj('PUT', '/v2/company', { body: { background_alias: up.body.alias, name: 'x' } })
  t.equal(extra.status, 422, 'only background_alias is accepted')

  const set = await h.obj('PUT', '/v2/company', { body: { background_alias: up.body.alias } })
  t.equal(set.status, 200)
  t.same(set.body.default_background, up.body)
  t.equal(set.body.name, 'Emulated Company')
  t.same((await h.obj('GET', '/v2/company')).body.default_background, up.body, 'GET shows the default background')
})

t.test('virtual background rules', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())

  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0])
  const pngAsJpeg = await upload(h, png, { type: 'image/jpeg' })
  t.equal(pngAsJpeg.status, 415, 'declared JPEG but the bytes are not')
  t.equal(pngAsJpeg.body.error, 'unsupported_media_type')

  const jpegAsPng = await upload(h, jpeg(), { type: 'image/png' })
  t.equal(jpegAsPng.status, 415, 'JPEG bytes declared as PNG')
  t.equal(jpegAsPng.body.error, 'unsupported_media_type')

  const empty = await upload(h, Buffer.alloc(0))
  t.equal(empty.status, 422, 'empty file')
  t.equal(empty.body.error, 'validation_error')

  const wrongField = await upload(h, jpeg(), { field: 'file' })
  t.equal(wrongField.status, 422, 'the field must be virtual_background')

  const json = await h.obj('POST', '/v2/company/virtual-background', { body: { virtual_background: 'base64...' } })
  t.equal(json.status, 415, 'JSON is not multipart')

  const exact = await upload(h, jpeg(16 * MB))
  t.equal(exact.status, 201, 'exactly 16 MB is accepted')

  const tooBig = await upload(h, jpeg(16 * MB + 1))
  t.equal(tooBig.status, 413, '16 MB + 1 byte is refused')
  t.equal(tooBig.body.error, 'payload_too_large')

  const huge = await upload(h, jpeg(64 * MB))
  t.equal(huge.status, 413, '64 MB is refused')

  t.equal((await h.obj('GET', '/v2/company/virtual-backgrounds')).body.virtual_backgrounds.length, 1, 'only the valid upload was kept')

  for (let i = 1; i < 10; i++) t.equal((await upload(h, jpeg())).status, 201, `background ${i + 1} of 10`)
  const eleventh = await upload(h, jpeg())
  t.equal(eleventh.status, 422, 'at most 10 backgrounds per company')
  t.equal(eleventh.body.error, 'validation_error')
  t.equal((await h.obj('GET', '/v2/company/virtual-backgrounds')).body.virtual_backgrounds.length, 10)
  t.equal((await h.obj('GET', '/v2/company')).status, 200, 'the emulator still answers after refused uploads')
})

t.test('an oversized upload is refused while it is still being sent', async t => {
  const h = await startHarness()
  t.teardown(() => h.close())
  const boundary = 'emulator-test-boundary'
  const limit = 1024 * MB
  let sent = 0
  async function * body (): AsyncGenerator<Buffer> {
    yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="virtual_background"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`)
    const chunk = jpeg(64 * 1024)
    while (sent < limit) {
      sent += chunk.length
      yield chunk
    }
    yield Buffer.from(`\r\n--${boundary}--\r\n`)
  }
  // The emulator answers 413 and closes the connection, like a real server refusing a body
  // early: depending on timing the client reads the 413 or its next write fails (EPIPE/reset).
  // Either way the upload must have been cut long before its end.
  const outcome = await request(`${h.emu.url}/v2/company/virtual-background`, {
    method: 'POST',
    body: Readable.from(body()),
    headers: { apikey: API_KEY, 'content-type': `multipart/form-data; boundary=${boundary}` }
  }).then(
    async res => ({ status: res.statusCode, error: JSON.parse(await res.body.text()).error }),
    (err: NodeJS.ErrnoException) => ({ code: err.code })
  )
  if ('status' in outcome) t.same(outcome, { status: 413, error: 'payload_too_large' })
  else t.match(outcome.code, /^(EPIPE|ECONNRESET|UND_ERR_SOCKET)$/, 'the connection was cut')
  t.ok(sent < 128 * MB, `the answer came after ${Math.round(sent / MB)} MB of a 1 GB upload`)
})
