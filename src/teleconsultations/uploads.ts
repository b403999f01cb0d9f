import type { AppConfig } from '../config/index.js'
import type { KaleyraClient } from '../kaleyra/client.js'
import type { TeleconsultationStore } from '../store/types.js'
import { settleEach } from '../platform/concurrency.js'
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
export function createUploadsCleanup (deps: { config: AppConfig, kaleyra: KaleyraClient, store: TeleconsultationStore }) {
  return async function deleteUploads (id: string, ctx: RequestContext): Promise<UploadsDeletion | null> {
    if (!deps.config.env.TELECONSULTATION_DELETE_UPLOADS) return null
    const { record } = await loadForParticipant(deps.store, id, ctx)
    if (record.bandyerRoomId === null) return { total: 0, deleted: 0 }
    // Listed in full before deleting: deleting while paging would shift the offsets.
    const uploads = await deps.kaleyra.listUploads(record.bandyerRoomId)
    const results = await settleEach(uploads, async upload => await deps.kaleyra.deleteUpload(upload.key), UPLOAD_DELETE_CONCURRENCY)
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failures.length > 0) {
      ctx.log.warn({ teleconsultationId: id, total: uploads.length, failed: failures.length, err: failures[0].reason }, 'some uploads could not be deleted')
    }
    return { total: uploads.length, deleted: uploads.length - failures.length }
  }
}
