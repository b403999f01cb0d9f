import { randomUUID } from 'node:crypto'
import type { AppConfig } from '../config/index.js'
import type { CreateRoomRequest, KaleyraClient } from '../kaleyra/client.js'
import { KaleyraFormatError } from '../kaleyra/errors.js'
import type { KaleyraRoom } from '../kaleyra/model.js'
import type { ResolvedParticipant } from '../identity/types.js'
import { NoPlusUser } from '../lib/errors.js'
import { UpstreamError } from '../upstream/errors.js'
import type { RequestContext } from '../upstream/request-context.js'
import type { TeleconsultationEvents } from './events.js'
import type { RoomReaper } from './reaper.js'
import { durationSeconds, type Schedule } from './rules.js'

export interface OpenedRoom {
  roomId: string
  /** Kaleyra user id → personal link. */
  links: Map<string, string>
}

/** Prefix of the marker written in every room description, used to find rooms whose creation answer was lost. */
export const ROOM_MARKER_PREFIX = 'tcs:'

export function assertPlusUser (participants: Array<{ role: string }>): void {
  if (!participants.some(p => p.role === 'plus')) throw new NoPlusUser()
}

export function buildRoomRequest (
  config: AppConfig,
  participants: ResolvedParticipant[],
  schedule: Schedule,
  marker: string
): CreateRoomRequest {
  const { env, service } = config
  const recording = env.DEFAULT_RECORDING_TYPE
  // Kaleyra enables transcription per company and refuses rooms asking for it elsewhere.
  const transcribed = recording !== 'none' && env.OFFLINE_TRANSCRIPTION
  return {
    participants: participants.map(p => ({ user_id: p.bandyerId, is_admin: p.role === 'plus', tools: service.privileges[p.role].tools })),
    recording,
    ...(transcribed ? { offline_transcription: true } : {}),
    live: env.LIVE_TELECONSULTATION,
    ...(env.UNLIMITED_TELECONSULTATION ? {} : { duration: durationSeconds(schedule) }),
    description: marker
  }
}

export type RoomOps = ReturnType<typeof createRoomOps>

export function createRoomOps (deps: {
  config: AppConfig
  kaleyra: KaleyraClient
  reaper: RoomReaper
  events?: TeleconsultationEvents
}) {
  return {
    /**
     * Creates the Kaleyra room. Never retried; a lost answer is handed to the reaper to clean up,
     * and a room created without a link for every participant is deleted.
     */
    async open (participants: ResolvedParticipant[], schedule: Schedule, ctx: RequestContext): Promise<OpenedRoom> {
      const marker = ROOM_MARKER_PREFIX + randomUUID()
      let room: KaleyraRoom
      try {
        room = await deps.kaleyra.createRoom(buildRoomRequest(deps.config, participants, schedule, marker))
      } catch (err) {
        if (err instanceof KaleyraFormatError && err.roomId !== undefined) {
          deps.events?.roomCreated()
          await deps.reaper.deleteRoom(err.roomId, undefined, ctx)
        } else if (err instanceof UpstreamError && err.ambiguous) {
          deps.reaper.reconcileLostCreation(marker, ctx)
        }
        throw err
      }
      deps.events?.roomCreated()
      ctx.log.info({ roomId: room.roomId }, 'Kaleyra room created')
      return { roomId: room.roomId, links: new Map(room.links.map(l => [l.userId, l.link])) }
    },

    /** Compensation: the room will not be used (persisting failed); delete it now or in the background. */
    async discard (roomId: string, ctx: RequestContext): Promise<void> {
      deps.events?.compensation()
      await deps.reaper.deleteRoom(roomId, undefined, ctx)
    }
  }
}
