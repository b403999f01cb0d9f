import type { AppConfig } from '../config/index.js'
import type { KaleyraClient } from '../kaleyra/client.js'
import type { KaleyraSession } from '../kaleyra/model.js'
import { ConflictError, NotFoundError } from '../lib/errors.js'
import type { ReadySession, TeleconsultationStore } from '../store/types.js'
import { loadForParticipant } from '../teleconsultations/access.js'
import type { RequestContext } from '../upstream/request-context.js'

export interface RecordingLinkView { url: string, expiresAt: string }

export interface SessionView {
  sessionId: string
  startDate: string | null
  endDate: string | null
  /** null: not known (without Kaleyra's webhooks nothing says it). */
  recording: boolean | null
  transcription: boolean | null
}

export type RecordingService = ReturnType<typeof createRecordingService>

/** Oldest first; sessions without a start date last, in Kaleyra's order. */
function byStart (a: KaleyraSession, b: KaleyraSession): number {
  if (a.startDate === null || b.startDate === null) return a.startDate === null ? (b.startDate === null ? 0 : 1) : -1
  return Date.parse(a.startDate) - Date.parse(b.startDate) || 0
}

/**
 * Recordings and the sessions list: participants only, sessions of the teleconsultation's room
 * only. Nothing here runs unless asked: no background call, whatever the configuration.
 */
export function createRecordingService (deps: {
  config: AppConfig
  kaleyra: KaleyraClient
  store: TeleconsultationStore
}) {
  const { env } = deps.config
  const recorded = env.DEFAULT_RECORDING_TYPE !== 'none'
  const transcribed = recorded && env.OFFLINE_TRANSCRIPTION

  /** What the service knows of a session's files: Kaleyra's webhooks, or nothing. */
  function flags (ready: ReadySession | undefined): Pick<SessionView, 'recording' | 'transcription'> {
    const known = (flag: boolean | undefined): boolean | null => env.KALEYRA_WEBHOOKS ? flag === true : null
    return {
      recording: recorded ? known(ready?.recording) : false,
      transcription: transcribed ? known(ready?.transcription) : false
    }
  }

  return {
    /** Kaleyra's temporary link to the recording of a session (RECORDING_LINK_TTL_S), never the file. */
    async link (id: string, sessionId: string, ctx: RequestContext): Promise<RecordingLinkView> {
      const { record } = await loadForParticipant(deps.store, id, ctx)
      if (!recorded) throw new ConflictError('Recording not available: recording is disabled')
      const foreign = (): Error => new NotFoundError(`Session ${sessionId} not found in teleconsultation ${id}`)
      if (record.bandyerRoomId === null) throw foreign()
      // With Kaleyra's webhooks, readiness is what Kaleyra said: no need to ask before it did.
      if (
        env.KALEYRA_WEBHOOKS &&
        record.readySessions?.some(s => s.sessionId === sessionId && s.recording === true) !== true
      ) {
        throw new NotFoundError('Recording not available yet')
      }
      const sessions = await deps.kaleyra.listSessions(record.bandyerRoomId)
      if (!sessions.some(s => s.sessionId === sessionId)) throw foreign()
      const link = await deps.kaleyra.getRecordingLink(sessionId, env.RECORDING_LINK_TTL_S)
      if (link === null) throw new NotFoundError('Recording not available yet')
      return { url: link.url, expiresAt: link.expiresAt.toISOString() }
    },

    /** The sessions of the teleconsultation's current room, with what is known of their files. */
    async sessions (id: string, ctx: RequestContext): Promise<SessionView[]> {
      const { record } = await loadForParticipant(deps.store, id, ctx)
      if (record.bandyerRoomId === null) return []
      const ready = new Map((record.readySessions ?? []).map(s => [s.sessionId, s]))
      const sessions = await deps.kaleyra.listSessions(record.bandyerRoomId)
      return sessions.sort(byStart).map(s => ({
        sessionId: s.sessionId,
        startDate: s.startDate,
        endDate: s.endDate,
        ...flags(ready.get(s.sessionId))
      }))
    }
  }
}
