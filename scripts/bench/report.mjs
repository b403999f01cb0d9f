// docs/benchmarks.md and the stdout summary: every figure as median [min–max] of the
// repetitions, every ratio computed per repetition against the baseline measured next to it.
import { formatSummary as f, ratios, summary } from './stats.mjs'

// Issue 14 measured the cold poll at ~4.2k req/s next to a bare Fastify at ~23k req/s (info, same
// machine). As a ratio to bare it does not depend on the machine the benchmark runs on.
const COLD_POLL_FLOOR = 4.2 / 23

const pick = (runs, field) => runs.map(r => r[field])

/** The ratios the targets of issue 14 are about, each a summary over the repetitions. */
function measuredRatios ({ throughput, critical, streaming, footprint }) {
  return {
    ...(throughput !== undefined && throughputRatios(throughput)),
    ...(footprint !== undefined && footprintRatios(footprint)),
    ...(streaming !== undefined && streamingRatios(streaming)),
    ...(critical !== undefined && criticalRatios(critical))
  }
}

function throughputRatios (throughput) {
  const rps = key => pick(throughput.runs[key], 'rps')
  // Bare Fastify's CPU time per request over the service's: the req/s ratio of a machine with CPU to spare.
  const cpu = (key, bare) => summary(ratios(cpuPerRequest(bare), cpuPerRequest(key)))
  const cpuPerRequest = key => pick(throughput.runs[key], 'cpuUsPerRequest')
  return {
    warmInfoCpu: cpu('warm-info', 'bare-info'),
    warmWarnCpu: cpu('warm-warn', 'bare-warn'),
    coldInfoCpu: cpu('cold-info', 'bare-info'),
    warmInfo: summary(ratios(rps('warm-info'), rps('bare-info'))),
    warmWarn: summary(ratios(rps('warm-warn'), rps('bare-warn'))),
    coldInfo: summary(ratios(rps('cold-info'), rps('bare-info')))
  }
}

function footprintRatios ({ runs: fp }) {
  return {
    idle: summary(ratios(pick(fp.service, 'idle'), pick(fp.bare, 'idle'))),
    loaded: summary(ratios(pick(fp.service, 'loaded'), pick(fp.bare, 'loaded'))),
    ready: summary(ratios(pick(fp.service, 'readyMs'), pick(fp.bare, 'readyMs'))),
    readyCpu: summary(ratios(pick(fp.service, 'readyCpuMs'), pick(fp.bare, 'readyCpuMs')))
  }
}

function streamingRatios ({ runs }) {
  return {
    streamFast: summary(ratios(pick(runs.serviceFast, 'mibPerSecond'), pick(runs.directFast, 'mibPerSecond'))),
    streamEmulator: summary(ratios(pick(runs.serviceEmulator, 'mibPerSecond'), pick(runs.directEmulator, 'mibPerSecond'))),
    // The worse of the two service paths.
    streamGrowth: [runs.serviceFast, runs.serviceEmulator].map(rs => summary(pick(rs, 'growthMiB'))).sort((a, b) => b.median - a.median)[0]
  }
}

function criticalRatios ({ runs }) {
  return {
    post: summary(ratios(runs.post, runs.postIdeal)),
    patch: summary(ratios(runs.patch, runs.patchIdeal)),
    patchCreateOnly: summary(ratios(runs.patch, runs.patchCreateOnly)),
    delete: summary(ratios(runs.delete, runs.deleteIdeal))
  }
}

/** One line per target of issue 14 whose phase ran, judged on the median. */
export function targets (r, results) {
  const GiB = 1024 ** 3
  const bytes = results.streaming?.bytes ?? 0
  const size = bytes >= GiB ? `${(bytes / GiB).toFixed(0)} GiB` : `${(bytes / 1024 ** 2).toFixed(0)} MiB`
  const list = [
    { what: 'warm poll, info, req/s vs bare Fastify', s: r.warmInfo, atLeast: 0.70, also: ['by CPU per request', r.warmInfoCpu] },
    { what: 'warm poll, warn, req/s vs bare Fastify', s: r.warmWarn, atLeast: 0.55, also: ['by CPU per request', r.warmWarnCpu] },
    { what: 'cold poll, info, req/s vs bare Fastify (issue 14: 4.2k vs 23k)', s: r.coldInfo, atLeast: COLD_POLL_FLOOR, also: ['by CPU per request', r.coldInfoCpu] },
    { what: 'idle RSS vs bare Fastify', s: r.idle, atMost: 1.25 },
    { what: `RSS after ${results.settings.loadedRequests} polls vs bare after as many requests`, s: r.loaded, atMost: 1.35 },
    { what: 'transcription through the service vs read directly (fast source), MiB/s', s: r.streamFast, atLeast: 0.90 },
    { what: `service peak RSS growth streaming ${size} (the worse source)`, s: r.streamGrowth, atMost: 32, unit: ' MiB', digits: 1 },
    { what: 'start-to-ready vs bare Fastify', s: r.ready, atMost: 1.5, also: ['CPU time until ready', r.readyCpu] },
    { what: `POST with ${results.critical?.participants} new participants vs its ideal critical path`, s: r.post, atMost: 1.10 },
    { what: 'PATCH with room replacement vs its ideal critical path', s: r.patch, atMost: 1.10 },
    { what: 'DELETE vs its ideal critical path', s: r.delete, atMost: 1.10 }
  ]
  return list.filter(t => t.s !== undefined).map(t => {
    const value = t.s.median
    const limitValue = t.atLeast ?? t.atMost
    const ok = t.atLeast !== undefined ? value >= t.atLeast : value <= t.atMost
    // One more decimal when the rounded value would read as the limit itself.
    const base = t.digits ?? 2
    const digits = !ok && value.toFixed(base) === limitValue.toFixed(base) ? base + 1 : base
    const unit = t.unit ?? '×'
    const limit = `${t.atLeast !== undefined ? '≥' : '≤'} ${limitValue.toFixed(base)}`
    const gap = ok
      ? ''
      : t.atLeast !== undefined ? `, short by ${(t.atLeast - value).toFixed(digits)} (needs ×${(t.atLeast / value).toFixed(2)})` : `, over by ${(value - t.atMost).toFixed(digits)} (${(value / t.atMost).toFixed(2)} × the limit)`
    const also = t.also === undefined ? '' : ` (${t.also[0]}: ${f(t.also[1], 2)})`
    return `${ok ? 'ok   ' : 'short'} ${t.what}: ${f(t.s, digits)}${unit}${also}; target ${limit}${unit}${gap}`
  })
}

function throughputTable ({ scenarios, runs }) {
  const rows = scenarios.map(s => {
    const rs = runs[s.key]
    const ratio = s.baseline === undefined ? '1' : f(summary(ratios(pick(rs, 'rps'), pick(runs[s.baseline], 'rps'))), 2)
    const cpuRatio = s.baseline === undefined ? '1' : f(summary(ratios(pick(runs[s.baseline], 'cpuUsPerRequest'), pick(rs, 'cpuUsPerRequest'))), 2)
    const reads = rs[0].kaleyraCalls === undefined || s.key === 'healthz' ? '' : f(summary(rs.map(x => (x.kaleyraCalls.getRoom ?? 0) / x.total)), 2)
    const emulatorCpu = Number.isFinite(rs[0].alsoCpuUsPerRequest) ? ` (+${f(summary(pick(rs, 'alsoCpuUsPerRequest')))} emulator)` : ''
    const failures = rs.reduce((sum, x) => sum + x.failures, 0)
    return `| ${s.label} | ${f(summary(pick(rs, 'rps')))} | ${ratio} | ${f(summary(pick(rs, 'p99')))} | ${f(summary(pick(rs, 'cpuUsPerRequest')))}${emulatorCpu} | ${cpuRatio} | ${reads} | ${failures} |`
  })
  return [
    '| Scenario | req/s | ratio to bare (same level) | p99 ms (whole ms) | server CPU µs/req | bare CPU/req ÷ this CPU/req | Kaleyra reads per poll | errors + non-2xx |',
    '|---|---|---|---|---|---|---|---|',
    ...rows
  ].join('\n')
}

const callList = calls => Object.entries(calls ?? {}).map(([op, n]) => `${n} ${op}`).join(' + ') || 'none'

function criticalTable ({ runs, calls, participants }, r, latencyMs) {
  const ms = key => f(summary(runs[key]), 1)
  return [
    `| Operation (${latencyMs} ms on every Kaleyra call) | service ms | Kaleyra calls it made | yardstick, straight to the same emulator | yardstick ms | ratio |`,
    '|---|---|---|---|---|---|',
    `| POST, ${participants} new participants | ${ms('post')} | ${callList(calls.post)} | ideal: the ${participants} users at once, then the room | ${ms('postIdeal')} | ${f(r.post, 2)} |`,
    `| PATCH, room replaced | ${ms('patch')} | ${callList(calls.patch)} | ideal: create the new room, then delete the old one | ${ms('patchIdeal')} | ${f(r.patch, 2)} |`,
    `| | | | for scale: create the new room only | ${ms('patchCreateOnly')} | ${f(r.patchCreateOnly, 2)} |`,
    `| DELETE | ${ms('delete')} | ${callList(calls.delete)} | ideal: delete the room | ${ms('deleteIdeal')} | ${f(r.delete, 2)} |`
  ].join('\n')
}

function streamingTable ({ runs }, r) {
  const row = (label, key, ratio) => {
    const rs = runs[key]
    const growth = rs[0].growthMiB === undefined ? '(idle)' : f(summary(pick(rs, 'growthMiB')), 1)
    const cpu = rs[0].cpuSeconds === undefined ? '' : f(summary(pick(rs, 'cpuSeconds')), 2)
    return `| ${label} | ${f(summary(pick(rs, 'mibPerSecond')))} | ${ratio} | ${growth} | ${cpu} |`
  }
  return [
    '| Path | MiB/s | service / direct | service peak RSS growth MiB | service CPU s |',
    '|---|---|---|---|---|',
    row('service ← emulator (its generator)', 'serviceEmulator', f(r.streamEmulator, 2)),
    row('emulator, read directly', 'directEmulator', '1'),
    row('service ← fast source (one preallocated buffer)', 'serviceFast', f(r.streamFast, 2)),
    row('fast source, read directly', 'directFast', '1')
  ].join('\n')
}

function footprintTable ({ runs }, r, loadedRequests) {
  const s = (list, field, digits = 1) => f(summary(pick(list, field)), digits)
  return [
    '| Measure | service (memory store, Kaleyra emulator in another process) | bare Fastify | ratio |',
    '|---|---|---|---|',
    `| start-to-ready ms (spawn → first 200 on /-/ready; bare: on its route) | ${s(runs.service, 'readyMs', 0)} | ${s(runs.bare, 'readyMs', 0)} | ${f(r.ready, 2)} |`,
    `| CPU ms used until ready (user + system) | ${s(runs.service, 'readyCpuMs', 0)} | ${s(runs.bare, 'readyCpuMs', 0)} | ${f(r.readyCpu, 2)} |`,
    `| idle RSS MiB | ${s(runs.service, 'idle')} | ${s(runs.bare, 'idle')} | ${f(r.idle, 2)} |`,
    `| RSS MiB after ${loadedRequests} requests (service: warm polls) | ${s(runs.service, 'loaded')} | ${s(runs.bare, 'loaded')} | ${f(r.loaded, 2)} |`,
    `| for scale: \`node -e 0\`, spawn → exit ms | | ${f(summary(runs.node), 0)} | |`
  ].join('\n')
}

/** The target lines of a partial run (`--only`): no report is written. */
export function partialSummary (results) {
  return targets(measuredRatios(results), results)
}

export function buildReport (results) {
  const { machine, settings } = results
  const r = measuredRatios(results)
  const summaryLines = targets(r, results)
  const quick = settings.mode === 'full' ? '' : `\n**This is a ${settings.mode} run (\`npm run bench -- --${settings.mode}\`): shorter runs and a smaller transcription; indicative only.**\n`
  const warning = machine.busy
    ? `The machine was busy: the 1-minute load reached ${machine.loadRange.split(' to ')[1]} on ${machine.cpus} CPUs, of which this benchmark accounts for about 2. ` +
      'Wall-clock figures (req/s, ms, MiB/s) and their ratios are skewed by the other work; the CPU-time ratios shown next to them hold better. ' +
      'Judge the targets on a run at a load near 2.'
    : ''
  const markdown = `# Benchmarks

Written by \`npm run bench\` (\`scripts/bench.mjs\`, helpers in \`scripts/bench/\`). Run of **${machine.date}**
(${machine.minutes} min: ${machine.phases}) on commit \`${machine.commit}\`: Node **${machine.node}**, ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB.
Load average (1, 5, 15 min) at the start \`${machine.loadStart}\`, at the end \`${machine.loadEnd}\`; the 1-minute
load seen between phases ranged ${machine.loadRange}. The machine is shared: the benchmark itself
accounts for about 2 of that load (a server and autocannon).
${quick}${warning === '' ? '' : `\n**${warning}**\n`}
Every scenario runs ${settings.repetitions} times, interleaved with its baseline (each repetition runs every scenario once,
in the same order). Figures are the median [min–max] of the repetitions; a ratio is computed per repetition against the
baseline measured next to it, then summarised the same way. Targets are judged on the median.

## Targets of issue 14

\`\`\`
${summaryLines.join('\n')}
\`\`\`

The cold-poll floor is issue 14's measurement (~4.2k req/s next to a bare Fastify at ~23k req/s, info, on the machine of
that run) expressed as a ratio to bare Fastify (${COLD_POLL_FLOOR.toFixed(2)}), so that it holds on any machine.

## Throughput

autocannon in the benchmark process, ${settings.connections} connections, ${settings.seconds} s after a ${settings.warmupSeconds} s warm-up, 127.0.0.1 only.
The service runs compiled (\`node dist/server.js\`) with the memory store and header identity, its logs to /dev/null; the
Kaleyra emulator runs in a process of its own. The baseline is bare Fastify with the service's logger options
(\`loggerOptions\` of \`src/platform/logging.ts\`, redaction included) and Fastify's own request logging (two lines per request at
info), one route answering \`{"hello":"world"}\` through a response schema. Polls are made as the doctor of a started
teleconsultation (\`miauserid\`). Warm: one teleconsultation, so its room details come from the 2 s cache. Cold: 1,100
teleconsultations polled in turn, more than the 1,000 rooms the cache holds, so every poll reads its room from Kaleyra; the
"Kaleyra reads per poll" column, from the service's own \`upstream_requests_total\`, shows it. CPU is user + system time of
the server process (\`/proc\`) over the measured run; bare Fastify's CPU time per request divided by the scenario's is
what the req/s ratio would be with a CPU to spare, and it is steadier than req/s on a shared machine.

${throughputTable(results.throughput)}

## Critical paths

One request at a time, ${settings.operations} of each per repetition (medians per repetition), with the emulator delaying every \`/v2\` call by
${settings.latencyMs} ms. The yardstick makes the same Kaleyra calls from the benchmark process, through the service's own Kaleyra client
(\`dist/kaleyra/client.js\`), straight to the same emulator, as concurrent as their order allows: what is left is the service's
own work around those calls. The calls the service made are counted from its \`upstream_requests_total\` (first
operation of the last repetition).

${criticalTable(results.critical, r, settings.latencyMs)}

## Transcription streaming

A generated transcription of ${results.streaming.bytes / 1024 ** 2} MiB, downloaded by the benchmark process through
\`GET /transcription/:roomId/:sessionId\` and straight from the same source, in turn, after an untimed download of a transcription 1/16 that size on each path. Each source has its own service process
(TRANSCRIPTION_MAX_FILE_SIZE raised above the size, recording on). The peak RSS growth is the service's peak RSS during the
download (\`VmHWM\` after resetting it through \`/proc/<pid>/clear_refs\`) minus its RSS just before; the target takes the
source with the larger median.

${streamingTable(results.streaming, r)}

## Memory and start-up

${settings.trials} trials, each in fresh processes started in turn (\`node -e 0\`, bare Fastify, the service), log level info. Idle RSS is read
${settings.settleMs / 1000} s after the first 200; then ${settings.loadedRequests} requests (10 connections; the service's are warm polls of one teleconsultation,
created after the idle reading) and, ${settings.settleMs / 1000} s later, RSS again.

${footprintTable(results.footprint, r, settings.loadedRequests)}
`
  return { markdown, summaryLines, warning }
}
