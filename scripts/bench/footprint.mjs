// Start-to-ready, idle RSS and RSS after a fixed number of requests, each trial in fresh
// processes: `node -e 0` (for scale), bare Fastify, then the service, in turn.
import { spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { createAll, doctorHeaders, teleconsultation } from './fixtures.mjs'
import { load } from './load.mjs'
import { rssMiB, startBare, startService } from './processes.mjs'

const DOCTOR = 'bench-footprint-doctor'

async function nodeAloneMs () {
  const started = performance.now()
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore', env: { PATH: process.env.PATH } })
  await new Promise((resolve, reject) => child.once('exit', resolve).once('error', reject))
  return performance.now() - started
}

/** Idle RSS `settleMs` after ready, then `requests` requests (10 connections), then RSS again. */
async function measure (proc, settings, loadOptions) {
  await sleep(settings.settleMs)
  const idle = rssMiB(proc.pid)
  const extra = await loadOptions()
  await load({ target: proc, connections: 10, warmupSeconds: 0, amount: settings.loadedRequests, ...extra })
  await sleep(settings.settleMs)
  return { readyMs: proc.readyMs, readyCpuMs: proc.readyCpuMs, idle, loaded: rssMiB(proc.pid) }
}

export async function footprint ({ emulator, settings, progress }) {
  const runs = { node: [], bare: [], service: [] }
  for (let trial = 1; trial <= settings.trials; trial++) {
    runs.node.push(await nodeAloneMs())

    const bare = await startBare('bare Fastify (footprint)', { logLevel: 'info' })
    try {
      runs.bare.push(await measure(bare, settings, async () => ({})))
    } finally {
      await bare.stop()
    }

    const service = await startService('service (footprint)', { kaleyraUrl: emulator.url, apiKey: emulator.apiKey, logLevel: 'info' })
    try {
      runs.service.push(await measure(service, settings, async () => {
        const [id] = await createAll(service.url, [teleconsultation({ doctor: DOCTOR, patients: [`bench-footprint-patient-${trial}`] })])
        return { path: `/teleconsultation/${id}`, headers: doctorHeaders(DOCTOR) }
      }))
    } finally {
      await service.stop()
    }
    const [b, s] = [runs.bare.at(-1), runs.service.at(-1)]
    progress(`footprint ${trial}/${settings.trials}: ready ${s.readyMs.toFixed(0)} ms (bare ${b.readyMs.toFixed(0)}), ` +
      `idle ${s.idle.toFixed(1)} MiB (bare ${b.idle.toFixed(1)}), after ${settings.loadedRequests} requests ${s.loaded.toFixed(1)} MiB (bare ${b.loaded.toFixed(1)})`)
  }
  return { runs }
}
