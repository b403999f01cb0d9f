// Throughput, 10 connections: bare Fastify at info and warn, the poll route of the service with a
// warm and a cold room-details cache at both levels, and /-/healthz. Every repetition runs every
// scenario once, in the same order, so each ratio compares runs made a few seconds apart.
import { createAll, doctorHeaders, teleconsultation } from './fixtures.mjs'
import { load } from './load.mjs'
import { startBare, startService } from './processes.mjs'

// The room-details cache holds at most 1,000 rooms and drops the oldest first (src/teleconsultations/view.ts,
// src/lib/ttl-cache.ts): polling more rooms than that in turn makes every poll read Kaleyra.
const COLD_ROOMS = 1_100
const DOCTOR = 'bench-doctor'

async function pollTargets (service, tag) {
  const [warmId] = await createAll(service.url, [teleconsultation({ doctor: DOCTOR, patients: [`${tag}-warm-patient`] })])
  const bodies = Array.from({ length: COLD_ROOMS }, (_, i) => teleconsultation({ doctor: DOCTOR, patients: [`${tag}-cold-patient-${i}`] }))
  const coldIds = await createAll(service.url, bodies)
  return { warmPath: `/teleconsultation/${warmId}`, coldPaths: coldIds.map(id => `/teleconsultation/${id}`) }
}

/** autocannon `requests` that poll the given paths in turn, across all connections. */
function rotating (paths) {
  let next = 0
  return [{ method: 'GET', setupRequest: request => ({ ...request, path: paths[next++ % paths.length] }) }]
}

export async function throughput ({ emulator, settings, progress }) {
  const kaleyra = { kaleyraUrl: emulator.url, apiKey: emulator.apiKey }
  const [bareInfo, bareWarn, serviceInfo, serviceWarn] = await Promise.all([
    startBare('bare Fastify (info)', { logLevel: 'info' }),
    startBare('bare Fastify (warn)', { logLevel: 'warn' }),
    startService('service (info)', { ...kaleyra, logLevel: 'info' }),
    startService('service (warn)', { ...kaleyra, logLevel: 'warn' })
  ])
  try {
    progress(`creating ${1 + COLD_ROOMS} teleconsultations in each service process`)
    const [atInfo, atWarn] = await Promise.all([pollTargets(serviceInfo, 'info'), pollTargets(serviceWarn, 'warn')])
    const headers = doctorHeaders(DOCTOR)
    const service = target => ({ target, serviceUrl: target.url })
    const scenarios = [
      { key: 'bare-info', label: 'bare Fastify, JSON route, info', load: { target: bareInfo } },
      { key: 'warm-info', label: 'GET /teleconsultation/:id as a participant, warm cache, info', baseline: 'bare-info', load: { ...service(serviceInfo), path: atInfo.warmPath, headers } },
      { key: 'cold-info', label: 'same, cold cache (every poll reads the room from Kaleyra), info', baseline: 'bare-info', load: { ...service(serviceInfo), headers, requests: rotating(atInfo.coldPaths), also: emulator } },
      { key: 'bare-warn', label: 'bare Fastify, JSON route, warn', load: { target: bareWarn } },
      { key: 'warm-warn', label: 'GET /teleconsultation/:id as a participant, warm cache, warn', baseline: 'bare-warn', load: { ...service(serviceWarn), path: atWarn.warmPath, headers } },
      { key: 'cold-warn', label: 'same, cold cache, warn', baseline: 'bare-warn', load: { ...service(serviceWarn), headers, requests: rotating(atWarn.coldPaths), also: emulator } },
      { key: 'healthz', label: 'GET /-/healthz (never logged), warn', baseline: 'bare-warn', load: { ...service(serviceWarn), path: '/-/healthz' } }
    ]
    const runs = Object.fromEntries(scenarios.map(s => [s.key, []]))
    for (let rep = 1; rep <= settings.repetitions; rep++) {
      for (const scenario of scenarios) {
        const result = await load({
          ...scenario.load,
          connections: settings.connections,
          warmupSeconds: settings.warmupSeconds,
          duration: settings.seconds
        })
        runs[scenario.key].push(result)
        progress(`throughput ${rep}/${settings.repetitions} ${scenario.key}: ${Math.round(result.rps)} req/s`)
      }
    }
    return { scenarios, runs }
  } finally {
    await Promise.all([bareInfo, bareWarn, serviceInfo, serviceWarn].map(p => p.stop()))
  }
}
