/** Request builders shared by the route tests. */

export interface ParticipantFixture {
  userId: string
  groups?: string[]
  fullName?: string
  language?: string
}

export function doctor (id = 'doctor-1'): ParticipantFixture {
  return { userId: id, groups: ['doctor'], fullName: `Dr ${id}`, language: 'it' }
}

export function patient (id = 'patient-1'): ParticipantFixture {
  return { userId: id, groups: ['patient'], fullName: `Patient ${id}`, language: 'it' }
}

export const HOUR = 3_600_000

export function isoFromNow (ms: number): string {
  return new Date(Date.now() + ms).toISOString()
}

export function body (
  opts: { participants?: ParticipantFixture[]; number?: number; start?: string; end?: string; duration?: number } = {}
) {
  const data = opts.participants ?? [doctor(), patient()]
  const result: Record<string, unknown> = {
    participants: { number: opts.number ?? data.length, data },
    start_date: opts.start ?? isoFromNow(-60_000)
  }
  if (opts.end !== undefined) result.end_date = opts.end
  else result.duration_in_seconds = opts.duration ?? 3600
  return result
}

export function as (userId: string, groups?: string[]): Record<string, string> {
  const headers: Record<string, string> = { miauserid: userId }
  if (groups !== undefined) headers.miausergroups = groups.join(',')
  return headers
}
