// autocannon, programmatically: a warm-up, then a measured run during which the CPU time of the
// server process (and of the emulator when given) and the service's Kaleyra calls are counted.
import autocannon from 'autocannon'
import { callsBetween, kaleyraCalls } from './http.mjs'
import { cpuSeconds } from './processes.mjs'

async function run (opts) {
  return await new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => err ? reject(err) : resolve(result))
  })
}

/**
 * `target` is { url, pid } of the server under load; `serviceUrl` (the service only) lets the
 * Kaleyra calls be counted; `also` is another process whose CPU is counted (the emulator).
 * Either `duration` (s) or `amount` (requests) bounds the run.
 */
export async function load ({ target, path = '/', headers, requests, connections = 10, warmupSeconds = 1, duration, amount, serviceUrl, also }) {
  const opts = { url: target.url + path, headers, requests, connections }
  if (warmupSeconds > 0) await run({ ...opts, duration: warmupSeconds })
  const callsBefore = serviceUrl === undefined ? undefined : await kaleyraCalls(serviceUrl)
  const cpuBefore = cpuSeconds(target.pid)
  const alsoBefore = also === undefined ? 0 : cpuSeconds(also.pid)
  const result = await run(amount === undefined ? { ...opts, duration } : { ...opts, amount })
  const cpu = cpuSeconds(target.pid) - cpuBefore
  const alsoCpu = also === undefined ? NaN : cpuSeconds(also.pid) - alsoBefore
  const total = result.requests.total
  const calls = callsBefore === undefined ? undefined : callsBetween(callsBefore, await kaleyraCalls(serviceUrl))
  return {
    rps: amount === undefined ? result.requests.average : total / result.duration,
    p99: result.latency.p99,
    total,
    failures: result.errors + result.timeouts + result.non2xx,
    cpuUsPerRequest: cpu * 1e6 / total,
    alsoCpuUsPerRequest: alsoCpu * 1e6 / total,
    kaleyraCalls: calls
  }
}
