// HttpUpstream.requestJson over real HTTP: an answer is read whole when its length is announced
// within the 4 MiB bound, counted chunk by chunk otherwise, and refused past the bound either way.
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { UpstreamError } from '../../src/upstream/errors.js'
import { HttpUpstream } from '../../src/upstream/http.js'

const MiB = 1024 * 1024

type Answer = (res: ServerResponse) => void

async function upstream (t: { teardown: (fn: () => unknown) => void }, answer: Answer): Promise<HttpUpstream> {
  const server = createServer((_req, res) => { answer(res) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const http = new HttpUpstream({ target: 'kaleyra', baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, timeoutMs: 10_000, retries: 0 })
  t.teardown(async () => {
    await http.close()
    await new Promise(resolve => server.close(resolve))
  })
  return http
}

async function failure (http: HttpUpstream): Promise<UpstreamError> {
  const err: unknown = await http.requestJson({ operation: 'getRoom', method: 'GET', path: '/v2/rooms/x' }).then(() => null, (e: unknown) => e)
  if (!(err instanceof UpstreamError)) throw new Error(`expected an UpstreamError, got ${String(err)}`)
  return err
}

/** `{"pad":"xxx…"}` of about `bytes` bytes. */
const json = (bytes: number): string => JSON.stringify({ pad: 'x'.repeat(Math.max(0, bytes - 10)) })

const withLength: (body: string) => Answer = body => res => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body)
}
const chunked: (body: string) => Answer = body => res => {
  res.writeHead(200, { 'content-type': 'application/json' })
  for (let i = 0; i < body.length; i += 64 * 1024) res.write(body.slice(i, i + 64 * 1024))
  res.end()
}

for (const [name, send] of [['with a content-length', withLength], ['chunked', chunked]] as const) {
  t.test(`an answer ${name} within the bound is parsed whole`, async t => {
    const body = json(3 * MiB)
    const http = await upstream(t, send(body))
    const answer = await http.requestJson({ operation: 'getRoom', method: 'GET', path: '/v2/rooms/x' })
    t.equal(answer.statusCode, 200)
    t.equal((answer.data as { pad: string }).pad.length, body.length - 10)
  })

  t.test(`an answer ${name} past the bound is refused as a format failure`, async t => {
    const http = await upstream(t, send(json(5 * MiB)))
    const err = await failure(http)
    t.equal(err.failure, 'format')
    t.equal(err.upstreamStatus, 200)
  })
}

t.test('an answer cut before its announced length is a network failure, not a parsed body', async t => {
  const http = await upstream(t, res => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1000 })
    res.write('{"pad":"')
    setTimeout(() => res.destroy(), 20)
  })
  t.equal((await failure(http)).failure, 'network')
})
