import type { Readable } from 'node:stream'
import type { FastifyBaseLogger } from 'fastify'
import type { AppConfig } from '../config/index.js'
import { parseByteSize } from '../config/byte-size.js'
import type { KaleyraClient } from '../kaleyra/client.js'
import { ConflictError, NotFoundError, PayloadTooLargeError, TemporarilyUnavailableError } from '../lib/errors.js'
import type { TeleconsultationStore } from '../store/types.js'
import { loadForParticipant } from '../teleconsultations/access.js'
import { UpstreamError } from '../upstream/errors.js'
import type { RequestContext } from '../upstream/request-context.js'
import { createSpool, SourceError, SpoolUnavailable } from './spool.js'

/** What the route sends: a stream of announced length (from Kaleyra, or the document held whole within the cap). */
export interface TranscriptionPayload {
  length: number
  body: Readable
}

export type TranscriptionService = ReturnType<typeof createTranscriptionService>

export function createTranscriptionService (deps: {
  config: AppConfig
  kaleyra: KaleyraClient
  store: TeleconsultationStore
  log?: FastifyBaseLogger
  spoolDirectory?: string
}) {
  const { env } = deps.config
  const maxBytes = parseByteSize(env.TRANSCRIPTION_MAX_FILE_SIZE)
  const tooLarge = (): Error => new PayloadTooLargeError(`Transcription too large: more than TRANSCRIPTION_MAX_FILE_SIZE (${env.TRANSCRIPTION_MAX_FILE_SIZE})`)

  // Without a content-length the size is known only at the end, and once a 200 is sent a 413 can
  // no longer be: such a transcription is read up to the cap (never beyond) before answering,
  // in memory within a budget shared by all requests, else in a temporary file.
  const spool = createSpool({
    memoryBudgetBytes: parseByteSize(env.TRANSCRIPTION_MEMORY_BUDGET),
    directory: deps.spoolDirectory
  })

  async function readCapped (body: Readable): Promise<TranscriptionPayload> {
    try {
      return await spool.hold(body, size => { if (size > maxBytes) throw tooLarge() })
    } catch (err) {
      if (err instanceof SourceError) {
        const timeout = (err.cause as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT'
        throw new UpstreamError({ target: 'kaleyra', operation: 'getTranscription', failure: timeout ? 'timeout' : 'network', code: timeout ? 'deadline exceeded' : 'body interrupted' })
      }
      if (err instanceof SpoolUnavailable) {
        deps.log?.error({ code: (err.cause as { code?: string }).code }, 'transcription without content-length: no room for it in memory nor in the temporary directory')
        throw new TemporarilyUnavailableError('Transcription temporarily unavailable, retry later')
      }
      throw err
    }
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
      if (
        env.KALEYRA_WEBHOOKS &&
        record.readySessions?.some(s => s.sessionId === sessionId && s.transcription === true) !== true
      ) {
        throw new NotFoundError('Transcription not available yet')
      }
      const sessions = await deps.kaleyra.listSessions(record.bandyerRoomId)
      if (!sessions.some(s => s.sessionId === sessionId)) throw foreign()

      const download = await deps.kaleyra.openTranscription(sessionId)
      if (download === null) throw new NotFoundError('Transcription not available yet')
      if (download.length === null) return await readCapped(download.body)
      if (download.length > maxBytes) {
        // Refused on its announced size: not a byte of it is read.
        download.body.destroy()
        throw tooLarge()
      }
      return { length: download.length, body: download.body }
    }
  }
}
