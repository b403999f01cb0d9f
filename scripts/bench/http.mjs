// The benchmark's own HTTP client (undici, keep-alive): setup calls, timed single requests,
// streamed downloads and the service's upstream counters.
import { Agent, request } from 'undici'

const agent = new Agent({ keepAliveTimeout: 30_000, connections: 64 })

/** One request; the answer is read whole and parsed when it is JSON. */
export async function call (method, url, { headers = {}, body } = {}) {
  const res = await request(url, {
    method,
    dispatcher: agent,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await res.body.text()
  const json = res.headers['content-type']?.includes('json') === true && text !== '' ? JSON.parse(text) : undefined
  return { status: res.statusCode, json, text }
}

/** A call that must answer `expected`; anything else stops the benchmark with the answer. */
export async function expectStatus (expected, method, url, opts) {
  const res = await call(method, url, opts)
  if (res.status !== expected) throw new Error(`${method} ${url} answered ${res.status}, expected ${expected}: ${res.text.slice(0, 300)}`)
  return res.json
}

/** Milliseconds from sending `method url` to the end of its answer, which must have status `expected`. */
export async function timed (expected, method, url, opts) {
  const started = performance.now()
  await expectStatus(expected, method, url, opts)
  return performance.now() - started
}

/** Downloads `url`, counting bytes without keeping them; `{ bytes, seconds }`. */
export async function download (url, headers = {}) {
  const started = performance.now()
  const res = await request(url, { dispatcher: agent, headers })
  if (res.statusCode !== 200) throw new Error(`GET ${url} answered ${res.statusCode}: ${(await res.body.text()).slice(0, 300)}`)
  let bytes = 0
  for await (const chunk of res.body) bytes += chunk.length
  return { bytes, seconds: (performance.now() - started) / 1000 }
}

/** Calls the service made to Kaleyra so far, per operation (every status class), from /-/metrics. */
export async function kaleyraCalls (serviceUrl) {
  const { status, text } = await call('GET', `${serviceUrl}/-/metrics`)
  if (status !== 200) throw new Error(`GET /-/metrics answered ${status}`)
  const counts = {}
  for (const line of text.split('\n')) {
    const match = /^upstream_requests_total\{([^}]*)\} (\d+)/.exec(line)
    if (match === null || !match[1].includes('target="kaleyra"')) continue
    const operation = /operation="([^"]+)"/.exec(match[1])?.[1] ?? '?'
    counts[operation] = (counts[operation] ?? 0) + Number(match[2])
  }
  return counts
}

/** What changed between two kaleyraCalls snapshots, per operation. */
export function callsBetween (before, after) {
  const delta = {}
  for (const [operation, count] of Object.entries(after)) {
    const n = count - (before[operation] ?? 0)
    if (n > 0) delta[operation] = n
  }
  return delta
}

export async function closeClient () {
  await agent.close()
}
