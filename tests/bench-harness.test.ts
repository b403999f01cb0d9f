import t, { type Test } from 'tap'
import { fileURLToPath } from 'node:url'
import { httpCall, startProcess, type RunningProcess } from './helpers/process.js'
import { waitFor } from './helpers/wait.js'

// The processes `npm run bench` starts next to the service (scripts/bench/): they answer what the
// harness relies on and stop on SIGTERM. Nothing here is timed; the benchmark itself is not a test.
const root = fileURLToPath(new URL('..', import.meta.url))

interface Teardown { teardown: (fn: () => unknown) => void }

/** Starts a bench helper that prints `{"url": ...}` once listening. */
async function startAnnouncing (
  t: Teardown,
  script: string,
  env: Record<string, string>
): Promise<{ proc: RunningProcess; url: string }> {
  const proc = startProcess(t, [process.execPath, `scripts/bench/${script}`], {
    cwd: root,
    env: { PATH: process.env.PATH, ...env }
  })
  let url = ''
  await waitFor(`${script} to print its url`, () => {
    if (proc.child.exitCode !== null) throw new Error(`${script} exited: ${proc.stderr.join('\n')}`)
    const line = proc.stdout.find(l => l.startsWith('{"url"'))
    if (line !== undefined) url = (JSON.parse(line) as { url: string }).url
    return url !== ''
  })
  return { proc, url }
}

async function stops (t: Test, proc: RunningProcess, name: string): Promise<void> {
  proc.child.kill('SIGTERM')
  const { code } = await proc.exited
  t.equal(code, 0, `${name} exits cleanly on SIGTERM`)
}

t.test('the emulator process and the fast transcription source: exact documents, everything else forwarded', async t => {
  const apiKey = 'ak_bench_harness_test'
  const emulator = await startAnnouncing(t, 'emulator.mjs', { BENCH_API_KEY: apiKey })
  const fast = await startAnnouncing(t, 'fast-source.mjs', { BENCH_UPSTREAM: emulator.url })
  t.match(fast.url, /^http:\/\/127\.0\.0\.1:\d+$/)

  const bytes = 300_001
  t.equal((await httpCall(`${fast.url}/_fast/transcriptions?session=session_bench&bytes=${bytes}`, { method: 'POST' })).status, 204)
  const document = await httpCall(`${fast.url}/v2/sessions/session_bench/transcription`)
  t.equal(document.status, 200)
  t.equal(document.headers['content-length'], String(bytes), 'announced length')
  t.equal(Buffer.byteLength(document.body), bytes, 'exactly that many bytes')
  t.same(Object.keys(JSON.parse(document.body) as object), ['segments', 'padding'], 'a JSON document')
  t.equal((await httpCall(`${fast.url}/_fast/transcriptions?session=s&bytes=3`, { method: 'POST' })).status, 422, 'too small for a document')

  // Not a registered session: Kaleyra's answer, through the emulator (api key checked there).
  t.equal((await httpCall(`${fast.url}/v2/sessions/session_other/transcription`, { headers: { apikey: apiKey } })).status, 404)
  const company = await httpCall(`${fast.url}/v2/company`, { headers: { apikey: apiKey } })
  t.equal(company.status, 200)
  t.equal((JSON.parse(company.body) as { name: string }).name, 'Emulated Company')
  t.equal((await httpCall(`${fast.url}/v2/company`)).status, 401, 'no api key: the emulator refuses')

  await stops(t, fast.proc, 'the fast source')
  await stops(t, emulator.proc, 'the emulator')
})

t.test('the bare Fastify baseline answers its one JSON route and logs each request the way Fastify does', async t => {
  const bare = startProcess(t, [process.execPath, 'scripts/bench/bare.mjs'], { cwd: root, env: { PATH: process.env.PATH, HTTP_PORT: '0', LOG_LEVEL: 'info' } })
  const listening = await bare.waitForLog('bare Fastify to listen', line => String(line.msg).startsWith('Server listening at http://127.0.0.1:'))
  const url = String(listening.msg).replace('Server listening at ', '')
  const answer = await httpCall(`${url}/`)
  t.equal(answer.status, 200)
  t.same(JSON.parse(answer.body), { hello: 'world' })
  await waitFor('the request lines', () => bare.logs().some(line => line.msg === 'request completed'))
  t.ok(bare.logs().some(line => line.msg === 'incoming request'), 'Fastify\'s own request logging, two lines per request')
  await stops(t, bare, 'bare Fastify')
})
