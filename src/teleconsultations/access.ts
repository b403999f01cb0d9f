import { NotFoundError, UnauthorizedError } from '../lib/errors.js'
import type { StoredParticipant, TeleconsultationRecord, TeleconsultationStore } from '../store/types.js'
import type { RequestContext } from '../upstream/request-context.js'

export function notFound (id: string): Error {
  return new NotFoundError(`Room with id ${id} not found on CRUD`)
}

/** Routes reserved to participants: the record (404 when missing) and the caller's entry (401 when not in it). */
export async function loadForParticipant (
  store: TeleconsultationStore,
  id: string,
  ctx: RequestContext
): Promise<{ record: TeleconsultationRecord; me: StoredParticipant }> {
  const record = await store.get(id, ctx)
  // A record whose deletion began is gone for its readers: its room may already be deleted.
  if (record === null || record.teleconsultationState === 'DELETING') throw notFound(id)
  const me = ctx.callerId === null ? undefined : record.participants.find(p => p.userId === ctx.callerId)
  if (me === undefined) throw new UnauthorizedError()
  return { record, me }
}
