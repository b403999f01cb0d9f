// /v2/users: create (own or generated id), get, update (role, camera), list.
import type { FastifyInstance } from 'fastify'
import { KALEYRA_ID_REGEX, KALEYRA_ROLES, paths } from '../../kaleyra/wire.js'
import { ApiError, notFound, objectBody, oneOf, optionalBoolean, pageOf, queryOf, readPage, validationError } from '../http.js'
import { randomHex, type EmulatorState, type UserRecord } from '../state.js'

function userBody (user: UserRecord): { user_id: string, role: string, allow_camera: boolean, creation_date: string } {
  return { user_id: user.userId, role: user.role, allow_camera: true, creation_date: user.createdAt }
}

export function registerUserRoutes (app: FastifyInstance, state: EmulatorState): void {
  app.post(paths.users(), async (request, reply) => {
    const body = objectBody(request.body, ['user_id', 'role', 'allow_camera'])
    if (body.role === undefined) throw validationError('body.role is required')
    const role = oneOf(body.role, KALEYRA_ROLES, 'body.role')
    optionalBoolean(body, 'allow_camera')
    let userId = `user_${randomHex(8)}`
    if (body.user_id !== undefined) {
      if (typeof body.user_id !== 'string' || !KALEYRA_ID_REGEX.test(body.user_id)) {
        throw validationError('body.user_id must be 1 to 128 characters among a-z A-Z 0-9 . _ -')
      }
      userId = body.user_id
    }
    if (state.users.has(userId)) throw new ApiError(409, 'user_already_exists', `user ${userId} already exists`)
    const user: UserRecord = { userId, role, createdAt: new Date().toISOString() }
    state.users.set(userId, user)
    reply.code(201)
    return userBody(user)
  })

  app.get<{ Params: { id: string } }>(`${paths.users()}/:id`, async (request) => {
    const user = state.users.get(request.params.id)
    if (user === undefined) throw notFound(`user ${request.params.id} not found`)
    return userBody(user)
  })

  app.put<{ Params: { id: string } }>(`${paths.users()}/:id`, async (request) => {
    const user = state.users.get(request.params.id)
    if (user === undefined) throw notFound(`user ${request.params.id} not found`)
    const body = objectBody(request.body, ['role', 'allow_camera'])
    optionalBoolean(body, 'allow_camera')
    if (body.role !== undefined) user.role = oneOf(body.role, KALEYRA_ROLES, 'body.role')
    return userBody(user)
  })

  app.get(paths.users(), async (request) => {
    const page = pageOf([...state.users.values()], readPage(queryOf(request.url)))
    const { items, ...rest } = page
    return { users: items.map(u => ({ user_id: u.userId, role: u.role })), ...rest }
  })
}
