import type { AppConfig } from '../config/index.js'
import type { KaleyraClient } from '../kaleyra/client.js'
import { decorateLink, type KaleyraRoom } from '../kaleyra/model.js'
import type { TeleconsultationStore } from '../store/types.js'
import { createTtlCache } from '../lib/ttl-cache.js'
import type { RequestContext } from '../upstream/request-context.js'
import { loadForParticipant } from './access.js'
import { ROOM_MARKER_PREFIX } from './rooms.js'
import { isFrozen } from './rules.js'

export const LINK_LANGUAGES = ['it', 'en'] as const

/** How long the room details read for one poll serve the next ones. */
export const DETAILS_TTL_MS = 2_000
const DECORATED_LINKS_MAX = 1_000

export interface ViewOptions {
  useBackground?: boolean
  language?: string
}

/** The Kaleyra room as Kaleyra reports it, in the camelCase of the 1.6+ `details`. */
export type RoomDetails = Omit<KaleyraRoom, 'roomId' | 'links'>

export interface TeleconsultationView {
  bandyerUserId: string
  accessLinkURL: string | null
  participantsBandyerCall: Array<{ bandyerUserId: string, fullName?: string }>
  status?: 'ended'
  details?: RoomDetails
}

function toDetails (room: KaleyraRoom): RoomDetails {
  const { roomId: _roomId, links: _links, ...details } = room
  // Our own bookkeeping marker is not a description anyone wrote.
  if (details.description?.startsWith(ROOM_MARKER_PREFIX) === true) details.description = null
  return details
}

/** What a participant needs to join, and nothing before it is time. */
export function createTeleconsultationView (deps: {
  config: AppConfig
  kaleyra: KaleyraClient
  store: TeleconsultationStore
  now: () => number
}) {
  const { env, service } = deps.config

  // The frontend polls this route: participants of one room asking together or within a couple
  // of seconds share one Kaleyra read.
  const rooms = createTtlCache<RoomDetails | null>({ ttlMs: DETAILS_TTL_MS, maxEntries: 1_000, now: deps.now })

  // A participant's link and options are the same poll after poll: the link is parsed and
  // rebuilt once, not on every request (bounded: emptied when full).
  const decorated = new Map<string, string>()
  function participantLink (link: string, language: string | undefined, virtualBackground: boolean): string {
    const key = `${language ?? ''}\u0000${virtualBackground ? 1 : 0}\u0000${link}`
    let found = decorated.get(key)
    if (found === undefined) {
      found = decorateLink(link, { language, virtualBackground })
      if (decorated.size >= DECORATED_LINKS_MAX) decorated.clear()
      decorated.set(key, found)
    }
    return found
  }

  async function details (roomId: string, ctx: RequestContext): Promise<RoomDetails | undefined> {
    // Best effort: the link must not depend on Kaleyra answering a details call; a failure
    // leaves `details` out and is logged.
    try {
      const room = await rooms.get(roomId, async () => {
        const found = await deps.kaleyra.getRoom(roomId)
        return found === null ? null : toDetails(found)
      })
      return room ?? undefined
    } catch (err) {
      ctx.log.warn({ err, roomId }, 'room details unavailable')
      return undefined
    }
  }

  return async function view (id: string, ctx: RequestContext, opts: ViewOptions): Promise<TeleconsultationView> {
    const { record, me } = await loadForParticipant(deps.store, id, ctx)

    let accessLinkURL: string | null = null
    const ended = record.roomClosedAt != null
    if (!ended && me.accessLinkURL !== null && isFrozen(record, deps.now(), env.IMMUTABLE_PERIOD_MS)) {
      const virtualBackground = opts.useBackground === true ||
        service.groupsWithBackgroundList.some(g => me.groups?.includes(g) === true || ctx.callerGroups.includes(g))
      const language = (LINK_LANGUAGES as readonly string[]).includes(opts.language ?? '') ? opts.language : undefined
      accessLinkURL = participantLink(me.accessLinkURL, language, virtualBackground)
    }
    const view: TeleconsultationView = {
      bandyerUserId: me.userBandyerId,
      accessLinkURL,
      participantsBandyerCall: record.participants.map(p => ({ bandyerUserId: p.userBandyerId, fullName: p.fullName }))
    }
    if (ended) {
      view.status = 'ended'
      return view
    }
    if (record.bandyerRoomId !== null) {
      const roomDetails = await details(record.bandyerRoomId, ctx)
      if (roomDetails !== undefined) view.details = roomDetails
    }
    return view
  }
}
