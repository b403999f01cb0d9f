// `npm run bench`: the compiled service measured against bare Fastify and against ideal critical
// paths, in one run, on 127.0.0.1 only; writes docs/benchmarks.md and prints the targets of issue 14.
//   npm run bench                 the full run (about 6 minutes)
//   npm run bench -- --quick      shorter runs, a 128 MiB transcription (about 3 minutes)
//   npm run bench -- --out FILE   writes FILE instead of docs/benchmarks.md
//   npm run bench -- --only throughput,footprint   runs only these phases (throughput, critical,
//                                 streaming, footprint) and prints their targets; writes no report
// (`--smoke` is for the harness's own test: tiny counts, no meaningful figure.)
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { buildIfStale, root } from './lib/build.mjs'
import { criticalPaths } from './bench/critical-paths.mjs'
import { footprint } from './bench/footprint.mjs'
import { closeClient } from './bench/http.mjs'
import { startEmulator } from './bench/processes.mjs'
import { buildReport, partialSummary } from './bench/report.mjs'
import { streaming } from './bench/streaming.mjs'
import { throughput } from './bench/throughput.mjs'

const MiB = 1024 * 1024
const MODES = {
  full: {
    repetitions: 3,
    connections: 10,
    warmupSeconds: 1,
    seconds: 5,
    operations: 20,
    latencyMs: 20,
    transcriptionBytes: 1024 * MiB,
    trials: 5,
    loadedRequests: 20_000,
    settleMs: 2000
  },
  quick: {
    repetitions: 3,
    connections: 10,
    warmupSeconds: 1,
    seconds: 2,
    operations: 8,
    latencyMs: 20,
    transcriptionBytes: 128 * MiB,
    trials: 3,
    loadedRequests: 20_000,
    settleMs: 1000
  },
  smoke: {
    repetitions: 1,
    connections: 2,
    warmupSeconds: 0,
    seconds: 1,
    operations: 2,
    latencyMs: 5,
    transcriptionBytes: 1 * MiB,
    trials: 1,
    loadedRequests: 200,
    settleMs: 50
  }
}

const { values: args } = parseArgs({ options: { quick: { type: 'boolean' }, smoke: { type: 'boolean' }, out: { type: 'string' }, only: { type: 'string' } } })
const mode = args.smoke === true ? 'smoke' : args.quick === true ? 'quick' : 'full'
const settings = { mode, ...MODES[mode] }
const PHASES = [['throughput', throughput], ['critical', criticalPaths], ['streaming', streaming], ['footprint', footprint]]
const only = args.only?.split(',').map(name => name.trim())
const unknown = only?.filter(name => !PHASES.some(([known]) => known === name)) ?? []
if (unknown.length > 0) {
  process.stderr.write(`npm run bench: unknown phase ${unknown.join(', ')} (phases: ${PHASES.map(([name]) => name).join(', ')})\n`)
  process.exit(2)
}
const out = args.out === undefined ? join(root, 'docs', 'benchmarks.md') : resolve(args.out)

const loads = []
const loadNow = () => {
  const avg = loadavg()
  loads.push(avg[0])
  return avg.map(v => v.toFixed(2)).join(', ')
}
const progress = line => process.stdout.write(`  ${line}\n`)

function commit () {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root, encoding: 'utf8' }).trim() !== ''
    return dirty ? `${sha} + uncommitted changes in src/` : sha
  } catch {
    return 'unknown'
  }
}

// A guard, not a budget: a full run takes about 6 minutes, longer on a loaded machine.
const GIVE_UP_MS = 20 * 60_000
setTimeout(() => {
  process.stderr.write(`npm run bench: still running after ${GIVE_UP_MS / 60_000} minutes, giving up\n`)
  process.exit(1)
}, GIVE_UP_MS).unref()

buildIfStale()
const startedAt = Date.now()
const loadStart = loadNow()
process.stdout.write(`npm run bench (${mode}): load average ${loadStart}\n`)

const emulator = await startEmulator(`ak_bench_${randomBytes(8).toString('hex')}`)
const ctx = { emulator, settings, progress }
const results = { settings }
const phaseSeconds = []
try {
  for (const [name, phase] of PHASES.filter(([name]) => only === undefined || only.includes(name))) {
    process.stdout.write(`${name} (load ${loadNow()})\n`)
    const phaseStarted = Date.now()
    results[name] = await phase(ctx)
    phaseSeconds.push(`${name} ${Math.round((Date.now() - phaseStarted) / 1000)} s`)
  }
} finally {
  await emulator.stop()
  await closeClient()
}

const loadEnd = loadNow()
const cpuList = cpus()
results.machine = {
  date: new Date(startedAt).toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
  minutes: ((Date.now() - startedAt) / 60_000).toFixed(1),
  phases: phaseSeconds.join(', '),
  commit: commit(),
  node: process.version,
  cpus: cpuList.length,
  cpuModel: cpuList[0]?.model.trim() ?? 'unknown CPU',
  memoryGiB: (totalmem() / 1024 ** 3).toFixed(0),
  loadStart,
  loadEnd,
  loadRange: `from ${Math.min(...loads).toFixed(2)} to ${Math.max(...loads).toFixed(2)}`,
  // The benchmark's own processes account for about 2; more than one busy CPU besides them skews the figures.
  busy: Math.max(...loads) > cpuList.length + 1
}

if (only !== undefined) {
  process.stdout.write(`\nTargets of the phases run (load ${loadStart} → ${loadNow()}):\n${partialSummary(results).join('\n')}\n`)
  process.exit(0)
}

const { markdown, summaryLines, warning } = buildReport(results)
writeFileSync(out, markdown)
process.stdout.write(`\nTargets of issue 14 (medians of ${settings.repetitions} interleaved repetitions; load ${loadStart} → ${loadEnd}):\n${summaryLines.join('\n')}\n`)
if (warning !== '') process.stdout.write(`${warning}\n`)
process.stdout.write(`written to ${out}\n`)
