// /v2/rooms: create, get, list (newest first), delete. Rooms are immutable.
import type { FastifyInstance } from 'fastify'
import { paths } from '../../kaleyra/wire.js'
import { ApiError, notFound, pageOf, queryOf, readPage } from '../http.js'
import { randomHex, type EmulatorState, type RoomRecord } from '../state.js'
import { readRoomRequest } from './room-request.js'

/** The creation answer; `GET` adds recording_status, duration_used and description. */
function createdBody (room: RoomRecord): Record<string, unknown> {
  return {
    room_id: room.roomId,
    participants: room.participants.map(p => ({ user_id: p.userId, is_admin: p.isAdmin, tools: { ...p.tools }, link: p.link })),
    recording: room.recording,
    ...(room.duration === null ? {} : { duration: room.duration }),
    live: room.live,
    call_type: room.callType,
    creation_date: room.createdAt,
    status: 'NOT_RUNNING',
    disabled: false
  }
}

function roomBody (room: RoomRecord): Record<string, unknown> {
  return { ...createdBody(room), recording_status: 'stopped', duration_used: 0, description: room.description }
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
    return createdBody(room)
  })

  app.get<{ Params: { id: string } }>(roomPath, async (request) => {
    const room = state.liveRoom(request.params.id)
    if (room === undefined) throw notFound(`room ${request.params.id} not found`)
    return roomBody(room)
  })

  app.get(paths.rooms(), async (request) => {
    const { items, ...rest } = pageOf(state.liveRooms().reverse(), readPage(queryOf(request.url)))
    return { rooms: items.map(roomBody), ...rest }
  })

  app.delete<{ Params: { id: string } }>(roomPath, async (request) => {
    const room = state.liveRoom(request.params.id)
    if (room === undefined) throw notFound(`room ${request.params.id} not found`)
    room.deleted = true
    return { room_id: room.roomId }
  })

  const immutable = async (): Promise<never> => {
    throw new ApiError(405, 'method_not_allowed', 'rooms cannot be modified; delete the room and create a new one')
  }
  app.put(roomPath, immutable)
  app.patch(roomPath, immutable)
}
