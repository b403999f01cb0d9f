// A Kaleyra stand-in that serves transcriptions as fast as a socket takes them and forwards every
// other request to the emulator (BENCH_UPSTREAM). `POST /_fast/transcriptions?session=<id>&bytes=<n>`
// makes the transcription of session <id> a valid JSON document of exactly n bytes, written from
// one preallocated buffer with back-pressure. Prints `{"url": ...}` once listening.
import { Agent, createServer, request } from 'node:http'

const upstream = new URL(process.env.BENCH_UPSTREAM)
const agent = new Agent({ keepAlive: true })
const CHUNK = Buffer.alloc(256 * 1024, 'x')
const HEAD = Buffer.from('{"segments":[],"padding":"')
const TAIL = Buffer.from('"}')
const sizes = new Map()

async function serveTranscription (res, bytes) {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes })
  res.write(HEAD)
  for (let left = bytes - HEAD.length - TAIL.length; left > 0; left -= CHUNK.length) {
    const more = res.write(left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left))
    if (!more) await new Promise(resolve => { res.once('drain', resolve); res.once('close', resolve) })
    if (res.destroyed) return
  }
  res.end(TAIL)
}

function forward (req, res) {
  const out = request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
    answer => {
      res.writeHead(answer.statusCode, answer.headers)
      answer.pipe(res)
    }
  )
  out.on('error', () => res.destroy())
  req.pipe(out)
}

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://local')
  if (req.method === 'POST' && url.pathname === '/_fast/transcriptions') {
    const bytes = Number(url.searchParams.get('bytes'))
    if (!Number.isSafeInteger(bytes) || bytes < HEAD.length + TAIL.length) return res.writeHead(422).end()
    sizes.set(url.searchParams.get('session'), bytes)
    return res.writeHead(204).end()
  }
  const match = /^\/v2\/sessions\/([^/]+)\/transcription$/.exec(url.pathname)
  const bytes = match === null || req.method !== 'GET' ? undefined : sizes.get(decodeURIComponent(match[1]))
  if (bytes !== undefined) {
    serveTranscription(res, bytes).catch(() => res.destroy())
    return
  }
  forward(req, res)
})

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` }) + '\n')
})
process.once('SIGTERM', () => { server.closeAllConnections(); server.close(() => process.exit(0)) })
