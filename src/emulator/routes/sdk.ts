// /v2/sdk/credentials: short-lived access tokens for the web and mobile SDKs.
import type { FastifyInstance } from 'fastify'
import { paths } from '../../kaleyra/wire.js'
import { MAX_TOKEN_EXPIRY_SECONDS, MIN_TOKEN_EXPIRY_SECONDS } from '../../kaleyra/model.js'
import { ApiError, notFound, objectBody, validationError } from '../http.js'
import { signSdkToken } from '../jwt.js'
import type { EmulatorState } from '../state.js'

/** Kaleyra's documented default when expires_in is omitted. */
const DEFAULT_EXPIRES_IN = MIN_TOKEN_EXPIRY_SECONDS

export function registerSdkRoutes (app: FastifyInstance, state: EmulatorState, apiKey: string): void {
  app.post(paths.sdkCredentials(), async (request) => {
    const body = objectBody(request.body, ['user_id', 'expires_in'])
    if (typeof body.user_id !== 'string' || body.user_id === '') throw validationError('body.user_id is required')
    const expiresIn = body.expires_in === undefined ? DEFAULT_EXPIRES_IN : body.expires_in
    if (typeof expiresIn !== 'number' || !Number.isInteger(expiresIn) ||
        expiresIn < MIN_TOKEN_EXPIRY_SECONDS || expiresIn > MAX_TOKEN_EXPIRY_SECONDS) {
      throw new ApiError(422, 'invalid_token_expirations',
        `The expires_in must be between ${MIN_TOKEN_EXPIRY_SECONDS} (6 minutes) and ${MAX_TOKEN_EXPIRY_SECONDS} (24 hours)`)
    }
    if (!state.users.has(body.user_id)) throw notFound(`user ${body.user_id} not found`)
    const { token, claims } = signSdkToken(apiKey, body.user_id, expiresIn)
    return { access_token: token, expires_at: new Date(claims.exp * 1000).toISOString(), user_id: body.user_id }
  })
}
