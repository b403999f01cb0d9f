// Teleconsultations the benchmark creates through the service, and the callers who poll them.
import { expectStatus } from './http.mjs'

export const iso = offsetMs => new Date(Date.now() + offsetMs).toISOString()
const HOUR = 3_600_000

export const doctorHeaders = doctorId => ({ miauserid: doctorId, miausergroups: 'doctor' })

const person = (userId, role) => ({ userId, groups: [role], fullName: role === 'doctor' ? 'Bench Doctor' : 'Bench Patient', language: 'en' })

/** A complete teleconsultation (its Kaleyra room is created at once): one doctor and `patients`. */
export function teleconsultation ({ doctor, patients, started = true }) {
  return {
    participants: { number: 1 + patients.length, data: [person(doctor, 'doctor'), ...patients.map(p => person(p, 'patient'))] },
    start_date: started ? iso(-60_000) : iso(2 * HOUR),
    // Long enough that a started one stays open (its links given) for the whole run.
    duration_in_seconds: 6 * 3600
  }
}

/** POSTs the bodies, `concurrency` at a time; the ids in order. */
export async function createAll (serviceUrl, bodies, concurrency = 8) {
  const ids = new Array(bodies.length)
  let next = 0
  async function worker () {
    while (next < bodies.length) {
      const i = next++
      ids[i] = (await expectStatus(201, 'POST', `${serviceUrl}/teleconsultation`, { body: bodies[i] })).roomId
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, bodies.length) }, worker))
  return ids
}
