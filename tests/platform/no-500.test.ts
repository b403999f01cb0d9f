import t from 'tap'
import { setup } from '../helpers/app.js'
import { as, body, doctor, HOUR, isoFromNow } from '../helpers/fixtures.js'

// Property: whatever a client sends, no route answers 5xx (upstreams are healthy here).
// Inputs are generated from a fixed seed, so a failure replays identically.

function prng (seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let r = Math.imul(a ^ (a >>> 15), 1 | a)
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296
  }
}

const KEYS = [
  'participants',
  'number',
  'data',
  'userId',
  'userExternalId',
  'groups',
  'group',
  'fullName',
  'language',
  'start_date',
  'end_date',
  'duration_in_seconds',
  'expiresIn',
  'background_alias',
  '__proto__',
  'constructor'
]
const STRINGS = [
  '',
  ' ',
  'doctor',
  'patient',
  'doctor-1',
  'it',
  'en',
  '2030-02-30T10:00:00Z',
  '2030-01-01T00:00:00.000Z',
  '9999-12-31T23:59:59Z',
  '1970-01-01T00:00:00Z',
  '2030-01-01',
  'null',
  '{"a":1}',
  '../../etc',
  '%00',
  'ü🙂',
  'x'.repeat(5000)
]
const NUMBERS = [
  0,
  -1,
  1,
  2,
  25,
  26,
  299,
  300,
  3600,
  86_400,
  86_401,
  2 ** 31,
  2 ** 53 + 1,
  1e20,
  1e308,
  -1e308,
  0.5,
  -0
]

function generator (random: () => number) {
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]
  function value (depth: number): unknown {
    const kind = Math.floor(random() * (depth > 2 ? 4 : 6))
    if (kind === 0) return null
    if (kind === 1) return random() < 0.5
    if (kind === 2) return pick(NUMBERS)
    if (kind === 3) return pick(STRINGS)
    if (kind === 4) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1))
    return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, () => [pick(KEYS), value(depth + 1)]))
  }
  /** A valid body with one field, somewhere in it, replaced by anything. */
  function mutate (valid: unknown): unknown {
    const copy = structuredClone(valid) as Record<string, unknown>
    let node: Record<string, unknown> | unknown[] = copy
    for (let depth = 0; depth < 4; depth++) {
      const keys = Object.keys(node)
      if (keys.length === 0) break
      const key = pick(keys)
      const child = (node as Record<string, unknown>)[key]
      if (child !== null && typeof child === 'object' && random() < 0.6) { node = child as Record<string, unknown>; continue }
      ;(node as Record<string, unknown>)[key] = value(depth)
      break
    }
    return copy
  }
  const header = (): string => String(value(3) ?? '')
  return { value, mutate, pick, header }
}

t.test('no input makes any route answer 5xx', async t => {
  const { app } = await setup(t, { env: { TELECONSULTATION_DELETE_UPLOADS: 'true', DEFAULT_RECORDING_TYPE: 'manual' } })
  const complete = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ start: isoFromNow(HOUR) }) })).json().roomId as string
  const partial = (await app.inject({ method: 'POST', url: '/teleconsultation', payload: body({ participants: [doctor()], number: 3 }) })).json().roomId as string
  const g = generator(prng(20261128))
  const ids = [complete, partial, 'aaaaaaaaaaaaaaaaaaaaaaaa', 'x', '..', '%2e%2e', 'a'.repeat(70)]
  const identity = (): Record<string, string> => ({
    ...(g.value(0) !== null ? as(g.pick(['doctor-1', 'patient-1', g.header()]), [g.pick(['doctor', 'patient', g.header()])]) : {}),
    ...(g.value(1) === true ? { miauserproperties: g.header() } : {})
  })

  const requests: Array<() => { method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown }> = [
    () => ({ method: 'POST', url: '/teleconsultation', payload: g.pick([g.value(0), g.mutate(body())]) }),
    () => ({ method: 'PATCH', url: `/teleconsultation/${g.pick(ids)}`, payload: g.pick([g.value(0), g.mutate(body({ start: isoFromNow(2 * HOUR) }))]) }),
    () => ({ method: 'POST', url: `/teleconsultation/${g.pick(ids)}/participants/data`, payload: g.pick([g.value(0), g.mutate(doctor('late'))]) }),
    () => ({ method: 'GET', url: `/teleconsultation/${g.pick(ids)}?useBackground=${String(g.value(2))}&language=${encodeURIComponent(String(g.value(2)))}` }),
    () => ({ method: 'DELETE', url: `/teleconsultation/${g.pick(ids)}/uploads` }),
    () => ({ method: 'POST', url: '/credentials', payload: g.pick([g.value(0), { expiresIn: g.value(1) }]) }),
    () => ({ method: 'PATCH', url: '/settings/update', payload: g.pick([g.value(0), { background_alias: g.value(1) }]) }),
    () => ({ method: 'GET', url: `/transcription/${encodeURIComponent(g.pick(ids))}/${encodeURIComponent(String(g.value(2)))}` }),
    () => ({ method: 'GET', url: `/recording/${encodeURIComponent(g.pick(ids))}/${encodeURIComponent(String(g.value(2)))}` }),
    () => ({ method: 'GET', url: `/teleconsultation/${encodeURIComponent(g.pick(ids))}/sessions` })
  ]

  const failures: string[] = []
  for (let i = 0; i < 800; i++) {
    const req = requests[i % requests.length]()
    const payload = req.payload === undefined ? undefined : JSON.stringify(req.payload) ?? 'null'
    const headers = { ...identity(), ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) }
    const res = await app.inject({ method: req.method, url: req.url, headers, payload })
    if (res.statusCode >= 500) failures.push(`${req.method} ${req.url} ${payload?.slice(0, 300) ?? ''} → ${res.statusCode} ${res.body}`)
  }
  t.same(failures, [], 'every answer is below 500')
})
