// /v2/users: create (own or generated id), get, update (role, camera, active), list.
import type { FastifyInstance } from 'fastify'
import { paths } from '../../kaleyra/wire.js'
import { KALEYRA_ID_REGEX, KALEYRA_ROLES } from '../../kaleyra/model.js'
import { ApiError, isObject, notFound, objectBody, oneOf, optionalBoolean, pageOf, queryOf, readPage, validationError } from '../http.js'
import { randomHex, type EmulatorState, type UserRecord } from '../state.js'

function userBody (user: UserRecord): Record<string, unknown> {
  return { id: user.userId, role: user.role, active: user.active, allow_camera: true, creation_date: user.createdAt }
}

export function registerUserRoutes (app: FastifyInstance, state: EmulatorState): void {
  app.post(paths.users(), async (request, reply) => {
    // Like Kaleyra, this call ignores fields it does not know: a misnamed id gets a generated one.
    if (!isObject(request.body)) throw validationError('body must be a JSON object')
    const body = request.body
    if (body.role === undefined) throw validationError('body.role is required')
    const role = oneOf(body.role, KALEYRA_ROLES, 'body.role')
    optionalBoolean(body, 'allow_camera')
    let userId = `user_${randomHex(8)}`
    if (body.id !== undefined) {
      if (typeof body.id !== 'string' || !KALEYRA_ID_REGEX.test(body.id)) {
        throw validationError('body.id must be 1 to 128 characters among a-z A-Z 0-9 . _ -')
      }
      userId = body.id
    }
    const existing = state.users.get(userId)
    if (existing !== undefined && !existing.active) {
      // Kaleyra: "You can't create a new user with the same id of an inactive user".
      throw validationError(`A user with id ${userId} already exists and is inactive: reactivate it with the Update User API`)
    }
    if (existing !== undefined) throw new ApiError(409, 'user_already_exists', `user ${userId} already exists`)
    const answer = userBody(state.addUser(userId, role))
    if (state.settings.omitCreatedUserId) delete answer.id
    reply.code(201)
    return answer
  })

  app.get<{ Params: { id: string } }>(`${paths.users()}/:id`, async (request) => {
    const user = state.users.get(request.params.id)
    if (user === undefined) throw notFound(`user ${request.params.id} not found`)
    return userBody(user)
  })

  app.put<{ Params: { id: string } }>(`${paths.users()}/:id`, async (request) => {
    const user = state.users.get(request.params.id)
    if (user === undefined) throw notFound(`user ${request.params.id} not found`)
    const body = objectBody(request.body, ['role', 'allow_camera', 'active'])
    optionalBoolean(body, 'allow_camera')
    const active = optionalBoolean(body, 'active')
    const role = body.role === undefined ? undefined : oneOf(body.role, KALEYRA_ROLES, 'body.role')
    if (role !== undefined) user.role = role
    if (active !== undefined) user.active = active
    return userBody(user)
  })

  app.get(paths.users(), async (request) => {
    const page = pageOf([...state.users.values()], readPage(queryOf(request.url)))
    const { items, ...rest } = page
    return { users: items.map(u => ({ id: u.userId, role: u.role, active: u.active })), ...rest }
  })
}
