import type { AppConfig } from '../config/index.js'
import type { KaleyraClient } from '../kaleyra/client.js'
import type { TeleconsultationStore } from '../store/types.js'
import type { RequestContext } from '../upstream/request-context.js'
import { loadForParticipant } from './access.js'

/** Enough to empty a room quickly without flooding Kaleyra (and its rate limits) with one call per file. */
export const UPLOAD_DELETE_CONCURRENCY = 8

export interface UploadsDeletion {
  /** Files found in the room. */
  total: number
  /** Files deleted (or already gone); fewer than total means the request can be repeated later. */
  deleted: number
}

/**
 * Empties the room of the files shared during the call; the frontend asks whenever a call ends.
 * Disabled (TELECONSULTATION_DELETE_UPLOADS=false) it is a no-op answering null, before any lookup.
 */
export function createUploadsCleanup (deps: {
  config: AppConfig
  kaleyra: KaleyraClient
  store: TeleconsultationStore
}) {
  return async function deleteUploads (id: string, ctx: RequestContext): Promise<UploadsDeletion | null> {
    if (!deps.config.env.TELECONSULTATION_DELETE_UPLOADS) return null
    const { record } = await loadForParticipant(deps.store, id, ctx)
    if (record.bandyerRoomId === null) return { total: 0, deleted: 0 }
    // Listed in full before deleting: deleting while paging would shift the offsets.
    const deadline = Date.now() + deps.config.env.UPLOADS_CLEANUP_DEADLINE_MS
    const uploads = await deps.kaleyra.listUploads(record.bandyerRoomId)
    const { deleted, failed, notTried } = await deleteUntil(
      uploads.map(u => u.key),
      async key => {
        await deps.kaleyra.deleteUpload(key)
      },
      deadline
    )
    if (failed.length > 0 || notTried > 0) {
      ctx.log.warn({ teleconsultationId: id, total: uploads.length, failed: failed.length, notTried, err: failed[0] }, 'some uploads could not be deleted')
    }
    return { total: uploads.length, deleted }
  }
}

/**
 * Deletes with UPLOAD_DELETE_CONCURRENCY at once and starts nothing after `deadline`; at the
 * deadline it stops waiting: deletions still running finish (within their own Kaleyra deadline)
 * without counting, so a hanging Kaleyra cannot hold the request for one deadline per file.
 */
async function deleteUntil (
  keys: string[],
  remove: (key: string) => Promise<void>,
  deadline: number
): Promise<{ deleted: number; failed: unknown[]; notTried: number }> {
  let next = 0
  let deleted = 0
  let settled = 0
  const failed: unknown[] = []
  async function worker (): Promise<void> {
    while (next < keys.length && Date.now() < deadline) {
      const key = keys[next++]
      try {
        await remove(key)
        deleted++
      } catch (err) {
        failed.push(err)
      } finally {
        settled++
      }
    }
  }
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<void>(resolve => { timer = setTimeout(resolve, Math.max(0, deadline - Date.now())) })
  try {
    await Promise.race([
      Promise.all(Array.from({ length: Math.min(UPLOAD_DELETE_CONCURRENCY, keys.length) }, worker)),
      expired
    ])
  } finally {
    clearTimeout(timer)
  }
  return { deleted, failed: [...failed], notTried: keys.length - settled }
}
