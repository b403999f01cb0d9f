// /v2/rooms: create, get, list (newest first unless told otherwise), delete. Rooms are immutable.
import type { FastifyInstance } from 'fastify'
import { paths } from '../../kaleyra/wire.js'
import { ApiError, notFound, pageOf, queryOf, readPage, validationError, type Query } from '../http.js'
import { randomHex, type EmulatorState, type RoomRecord } from '../state.js'
import { readRoomRequest } from './room-request.js'

/** The creation answer; `GET` adds recording_status, duration_used and description. */
function createdBody (room: RoomRecord, linkField: string): Record<string, unknown> {
  return {
    room_id: room.roomId,
    participants: room.participants.map(p => ({
      user_id: p.userId,
      is_admin: p.isAdmin,
      tools: { ...p.tools },
      [linkField]: p.link
    })),
    recording: room.recording,
    ...(room.duration === null ? {} : { duration: room.duration }),
    live: room.live,
    call_type: room.callType,
    creation_date: room.createdAt,
    status: 'NOT_RUNNING',
    disabled: false
  }
}

function roomBody (room: RoomRecord, linkField: string): Record<string, unknown> {
  return { ...createdBody(room, linkField), recording_status: 'stopped', duration_used: 0, description: room.description }
}

/** The live rooms a list answers, in the configured order, with the `from` filter as configured. */
function listed (state: EmulatorState, query: Query): RoomRecord[] {
  let rooms = state.liveRooms()
  if (query.from !== undefined) {
    if (state.settings.roomFromFilter === 'refused') throw new ApiError(400, 'bad_request', 'from is not a filter of this list')
    if (state.settings.roomFromFilter === 'supported') {
      const from = Date.parse(query.from)
      if (Number.isNaN(from)) throw validationError('from must be a date')
      rooms = rooms.filter(room => Date.parse(room.createdAt) >= from)
    }
  }
  return state.settings.roomOrder === 'newest-first' ? rooms.reverse() : rooms
}

export function registerRoomRoutes (app: FastifyInstance, state: EmulatorState): void {
  const roomPath = `${paths.rooms()}/:id`

  app.post(paths.rooms(), async (request, reply) => {
    const req = readRoomRequest(request.body, state)
    const roomId = `room_${randomHex(6)}`
    const room: RoomRecord = {
      roomId,
      participants: req.participants.map(p => ({ ...p, link: state.newLink(roomId, p.userId) })),
      recording: req.recording,
      offlineTranscription: req.offlineTranscription,
      duration: req.duration,
      live: req.live,
      description: req.description,
      createdAt: new Date().toISOString(),
      callType: req.callType,
      deleted: false
    }
    state.rooms.set(roomId, room)
    reply.code(201)
    return createdBody(room, state.settings.roomLinkField)
  })

  app.get<{ Params: { id: string } }>(roomPath, async (request) => {
    const room = state.liveRoom(request.params.id)
    if (room === undefined) throw notFound(`room ${request.params.id} not found`)
    return roomBody(room, state.settings.roomLinkField)
  })

  app.get(paths.rooms(), async (request) => {
    const query = queryOf(request.url)
    const { items, ...rest } = pageOf(listed(state, query), readPage(query))
    return { rooms: items.map(room => roomBody(room, state.settings.roomLinkField)), ...rest }
  })

  app.delete<{ Params: { id: string } }>(roomPath, async (request) => {
    const room = state.liveRoom(request.params.id)
    if (room === undefined) throw notFound(`room ${request.params.id} not found`)
    room.deleted = true
    state.webhooks.send('on_room_deleted', { room_id: room.roomId, deleted_links: room.participants.map(p => ({ user_id: p.userId, link: p.link })) })
    return { room_id: room.roomId }
  })

  const immutable = async (): Promise<never> => {
    throw new ApiError(405, 'method_not_allowed', 'rooms cannot be modified; delete the room and create a new one')
  }
  app.put(roomPath, immutable)
  app.patch(roomPath, immutable)
}
