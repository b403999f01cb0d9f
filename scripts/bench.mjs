// `npm run bench`: load on 127.0.0.1 only, bounded in time, results written to docs/benchmarks.md.
// The service runs as `npm run demo` does (a child process with the Kaleyra emulator inside it,
// memory store); autocannon runs in this process. Numbers include the emulator's own work.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { buildIfStale, root } from './lib/build.mjs'

const DURATION = Number(process.env.BENCH_SECONDS ?? 5)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)

buildIfStale()
const child = spawn(process.execPath, [join(root, 'scripts', 'demo.mjs')], {
  cwd: root,
  env: { ...process.env, HTTP_PORT: '0', LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit']
})
const base = await new Promise((resolve, reject) => {
  let out = ''
  child.stdout.on('data', chunk => {
    out += chunk
    const match = /Teleconsultation service \(demo\): (http:\/\/\S+)/.exec(out)
    if (match) resolve(match[1])
  })
  child.on('exit', code => reject(new Error(`service exited (${code})`)))
})

const json = { 'content-type': 'application/json' }
const iso = ms => new Date(Date.now() + ms).toISOString()
const participants = i => ({
  number: 2,
  data: [
    { userId: `bench-doctor-${i % 20}`, groups: ['doctor'], fullName: 'Bench Doctor' },
    { userId: `bench-patient-${i}`, groups: ['patient'], fullName: 'Bench Patient' }
  ]
})

async function post (path, body) {
  const res = await fetch(base + path, { method: 'POST', headers: json, body: JSON.stringify(body) })
  return await res.json()
}

// Teleconsultations to poll and to patch.
const started = await post('/teleconsultation', { participants: participants(0), start_date: iso(-60_000), duration_in_seconds: 3600 })
const future = []
for (let i = 0; i < 50; i++) future.push((await post('/teleconsultation', { participants: participants(1000 + i), start_date: iso(3_600_000), duration_in_seconds: 3600 })).roomId)

let counter = 0
const scenarios = [
  { name: 'GET /-/healthz (baseline)', opts: { url: `${base}/-/healthz` } },
  {
    name: 'GET /teleconsultation/:id (participant polling; Kaleyra room read at most every 2 s)',
    opts: { url: `${base}/teleconsultation/${started.roomId}`, headers: { miauserid: 'bench-doctor-0' } }
  },
  {
    name: 'POST /teleconsultation (complete: new patient user + room)',
    opts: {
      url: `${base}/teleconsultation`,
      method: 'POST',
      headers: json,
      requests: [{ setupRequest: req => ({ ...req, body: JSON.stringify({ participants: participants(10_000 + counter++), start_date: iso(3_600_000), duration_in_seconds: 1800 }) }) }]
    }
  },
  {
    name: 'PATCH /teleconsultation/:id (room replaced: create + persist + delete)',
    opts: {
      url: base,
      method: 'PATCH',
      headers: json,
      requests: [{
        setupRequest: req => {
          const i = counter++
          return { ...req, path: `/teleconsultation/${future[i % future.length]}`, body: JSON.stringify({ start_date: iso(3_600_000 + (i % 600) * 1000), duration_in_seconds: 1800 }) }
        }
      }]
    }
  }
]

const rows = []
for (const scenario of scenarios) {
  await autocannon({ ...scenario.opts, connections: CONNECTIONS, duration: 1 }) // warm-up
  const result = await autocannon({ ...scenario.opts, connections: CONNECTIONS, duration: DURATION })
  const non2xx = result.non2xx ?? 0
  rows.push(`| ${scenario.name} | ${Math.round(result.requests.average)} | ${result.latency.p50} | ${result.latency.p99} | ${result.latency.max} | ${result.errors + non2xx} |`)
  process.stdout.write(`${scenario.name}: ${Math.round(result.requests.average)} req/s, p99 ${result.latency.p99} ms, errors ${result.errors}, non-2xx ${non2xx}\n`)
}
child.kill('SIGTERM')

const report = `# Benchmarks

Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}.
The service runs like \`npm run demo\` (Kaleyra emulator in the same process, memory store, log level warn);
autocannon runs in another process on the same machine with ${CONNECTIONS} connections, ${DURATION} s per scenario after a 1 s warm-up.
Every request goes to 127.0.0.1. These numbers compare versions of this service on one machine; they say
little about production, where Kaleyra's own latency dominates.

| Scenario | req/s (avg) | p50 ms | p99 ms | max ms | errors + non-2xx |
|---|---|---|---|---|---|
${rows.join('\n')}
`
writeFileSync(join(root, 'docs', 'benchmarks.md'), report)
process.stdout.write('written to docs/benchmarks.md\n')
