// A large transcription read through the service and straight from its source, in turn: the
// emulator's generator, and a fast source that writes one preallocated buffer. Each service
// process has its own source; its peak RSS is reset before each download (Linux clear_refs).
import { download, expectStatus } from './http.mjs'
import { createAll, doctorHeaders, teleconsultation } from './fixtures.mjs'
import { cpuSeconds, peakRssMiB, resetPeak, rssMiB, startFastSource, startService } from './processes.mjs'

const MiB = 1024 * 1024
const DOCTOR = 'bench-stream-doctor'

/** Creates a started teleconsultation and, in its Kaleyra room, a session per size whose transcription is that long. */
async function transcriptionsOf (service, emulator, tag, sizes) {
  const patient = `bench-stream-patient-${tag}`
  const [id] = await createAll(service.url, [teleconsultation({ doctor: DOCTOR, patients: [patient] })])
  // The Kaleyra room is found in the emulator's state by the patient's Kaleyra user id, which the poll route gives.
  const view = await expectStatus(200, 'GET', `${service.url}/teleconsultation/${id}`, { headers: doctorHeaders(DOCTOR) })
  const patientKaleyraId = view.participantsBandyerCall.find(p => p.bandyerUserId !== view.bandyerUserId).bandyerUserId
  const state = await expectStatus(200, 'GET', `${emulator.url}/_emulator/state`)
  const room = state.rooms.find(r => r.participants.some(p => p.userId === patientKaleyraId))
  const sessions = []
  for (const bytes of sizes) {
    sessions.push((await expectStatus(201, 'POST', `${emulator.url}/_emulator/rooms/${room.roomId}/sessions`, { body: { transcriptionBytes: bytes } })).session_id)
  }
  return { id, sessions }
}

/** Downloads through the service while its peak RSS is tracked; growth is over the RSS just before. */
async function throughService (service, path) {
  let sampled = 0
  let peakKnown = true
  try { resetPeak(service.pid) } catch { peakKnown = false }
  const before = rssMiB(service.pid)
  const cpuBefore = cpuSeconds(service.pid)
  // Sampling is the fallback where clear_refs is not allowed.
  const sampler = setInterval(() => { sampled = Math.max(sampled, rssMiB(service.pid)) }, 10)
  try {
    const result = await download(service.url + path, doctorHeaders(DOCTOR))
    const peak = peakKnown ? peakRssMiB(service.pid) : sampled
    return { ...result, growthMiB: Math.max(0, peak - before), cpuSeconds: cpuSeconds(service.pid) - cpuBefore }
  } finally {
    clearInterval(sampler)
  }
}

export async function streaming ({ emulator, settings, progress }) {
  const bytes = settings.transcriptionBytes
  const fast = await startFastSource(emulator.url)
  const env = { DEFAULT_RECORDING_TYPE: 'automatic', TRANSCRIPTION_MAX_FILE_SIZE: `${Math.ceil(bytes / MiB) + 1}MB` }
  const credentials = { apiKey: emulator.apiKey, logLevel: 'info', env }
  const services = await Promise.all([
    startService('service (transcriptions from the emulator)', { ...credentials, kaleyraUrl: emulator.url }),
    startService('service (transcriptions from the fast source)', { ...credentials, kaleyraUrl: fast.url })
  ])
  try {
    const [viaEmulator, viaFast] = services
    // Per source: a small transcription for an untimed first download, then the measured one.
    const sizes = [Math.max(MiB, Math.round(bytes / 16)), bytes]
    const fromEmulator = await transcriptionsOf(viaEmulator, emulator, 'emulator', sizes)
    const fromFast = await transcriptionsOf(viaFast, emulator, 'fast', sizes)
    for (const [i, size] of sizes.entries()) await expectStatus(204, 'POST', `${fast.url}/_fast/transcriptions?session=${fromFast.sessions[i]}&bytes=${size}`)
    const sourcePath = sessionId => `/v2/sessions/${sessionId}/transcription`
    const apikey = { apikey: emulator.apiKey }
    const paths = [
      { key: 'serviceEmulator', run: i => throughService(viaEmulator, `/transcription/${fromEmulator.id}/${fromEmulator.sessions[i]}`) },
      { key: 'directEmulator', run: i => download(emulator.url + sourcePath(fromEmulator.sessions[i]), apikey) },
      { key: 'serviceFast', run: i => throughService(viaFast, `/transcription/${fromFast.id}/${fromFast.sessions[i]}`) },
      { key: 'directFast', run: i => download(fast.url + sourcePath(fromFast.sessions[i]), apikey) }
    ]
    // The figures are those of processes that have streamed before.
    for (const path of paths) await path.run(0)
    const runs = Object.fromEntries(paths.map(p => [p.key, []]))
    for (let rep = 1; rep <= settings.repetitions; rep++) {
      for (const path of paths) {
        const result = await path.run(1)
        if (result.bytes !== bytes) throw new Error(`${path.key}: ${result.bytes} bytes read, ${bytes} expected`)
        runs[path.key].push({ ...result, mibPerSecond: bytes / MiB / result.seconds })
      }
      progress(`streaming ${rep}/${settings.repetitions}: ` + paths.map(p => `${p.key} ${runs[p.key].at(-1).mibPerSecond.toFixed(0)} MiB/s`).join(', '))
    }
    return { runs, bytes }
  } finally {
    await Promise.all([...services.map(s => s.stop()), fast.stop()])
  }
}
