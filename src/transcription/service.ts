import type { Readable } from 'node:stream'
import type { AppConfig } from '../config/index.js'
import { parseByteSize } from '../config/byte-size.js'
import type { KaleyraClient } from '../kaleyra/client.js'
import { ConflictError, NotFoundError, PayloadTooLargeError } from '../platform/errors.js'
import type { TeleconsultationStore } from '../store/types.js'
import { loadForParticipant } from '../teleconsultations/access.js'
import { UpstreamError } from '../upstream/errors.js'
import type { RequestContext } from '../upstream/request-context.js'

/** What the route sends: a stream of announced length, or a document read whole (within the cap). */
export interface TranscriptionPayload {
  length: number
  body: Readable | Buffer
}

export type TranscriptionService = ReturnType<typeof createTranscriptionService>

export function createTranscriptionService (deps: { config: AppConfig, kaleyra: KaleyraClient, store: TeleconsultationStore }) {
  const { env } = deps.config
  const maxBytes = parseByteSize(env.TRANSCRIPTION_MAX_FILE_SIZE)
  const tooLarge = (): Error => new PayloadTooLargeError(`Transcription too large: more than TRANSCRIPTION_MAX_FILE_SIZE (${env.TRANSCRIPTION_MAX_FILE_SIZE})`)

  /**
   * Without a content-length the size is known only at the end, and once a 200 is sent a 413 can no
   * longer be: such a transcription is read up to the cap (never beyond) before answering.
   */
  async function readCapped (body: Readable): Promise<Buffer> {
    const chunks: Buffer[] = []
    let size = 0
    try {
      for await (const chunk of body) {
        size += (chunk as Buffer).length
        if (size > maxBytes) throw tooLarge()
        chunks.push(chunk as Buffer)
      }
    } catch (err) {
      body.destroy()
      if (err instanceof PayloadTooLargeError) throw err
      const timeout = (err as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT'
      throw new UpstreamError({ target: 'kaleyra', operation: 'getTranscription', failure: timeout ? 'timeout' : 'network', code: timeout ? 'deadline exceeded' : 'body interrupted' })
    }
    return Buffer.concat(chunks, size)
  }

  return {
    /** Participants only, sessions of the teleconsultation's room only. */
    async open (id: string, sessionId: string, ctx: RequestContext): Promise<TranscriptionPayload> {
      const { record } = await loadForParticipant(deps.store, id, ctx)
      if (env.DEFAULT_RECORDING_TYPE === 'none') throw new ConflictError('Transcription not available: recording is disabled')
      if (!env.OFFLINE_TRANSCRIPTION) throw new ConflictError('Transcription not available: transcription is disabled')
      const foreign = (): Error => new NotFoundError(`Session ${sessionId} not found in teleconsultation ${id}`)
      if (record.bandyerRoomId === null) throw foreign()
      // With Kaleyra's webhooks, readiness is what Kaleyra said: no need to ask before it did.
      if (env.KALEYRA_WEBHOOKS && record.readySessions?.some(s => s.sessionId === sessionId && s.transcription === true) !== true) {
        throw new NotFoundError('Transcription not available yet')
      }
      const sessions = await deps.kaleyra.listSessions(record.bandyerRoomId)
      if (!sessions.some(s => s.sessionId === sessionId)) throw foreign()

      const download = await deps.kaleyra.openTranscription(sessionId)
      if (download === null) throw new NotFoundError('Transcription not available yet')
      if (download.length === null) {
        const document = await readCapped(download.body)
        return { length: document.length, body: document }
      }
      if (download.length > maxBytes) {
        // Refused on its announced size: not a byte of it is read.
        download.body.destroy()
        throw tooLarge()
      }
      return { length: download.length, body: download.body }
    }
  }
}
