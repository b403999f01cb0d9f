import { Type, type Static } from '../lib/typebox.js'
import { MAX_TOKEN_EXPIRY_SECONDS, MIN_TOKEN_EXPIRY_SECONDS } from '../kaleyra/model.js'
import { errorResponse, jsonBodyErrors, upstreamErrors, validationErrorExample } from '../lib/schemas.js'

export const DEFAULT_EXPIRES_IN_SECONDS = 3600

/** The body of POST /credentials; `maximum` is CREDENTIALS_MAX_EXPIRES_IN (Kaleyra's own limit by default). */
export function credentialsBodySchema (maximum: number = MAX_TOKEN_EXPIRY_SECONDS) {
  const fallback = Math.min(DEFAULT_EXPIRES_IN_SECONDS, maximum)
  return Type.Object({
    expiresIn: Type.Optional(Type.Integer({
      minimum: MIN_TOKEN_EXPIRY_SECONDS,
      maximum,
      default: fallback,
      description: `Seconds until the token expires (${MIN_TOKEN_EXPIRY_SECONDS} to ${maximum}, default ${fallback})`,
      examples: [fallback]
    }))
  }, { description: 'May be omitted entirely', examples: [{ expiresIn: fallback }] })
}

export const CredentialsBodySchema = credentialsBodySchema()
export type CredentialsBody = Static<typeof CredentialsBodySchema>

export const CredentialsSchema = Type.Object({
  accessToken: Type.String({ description: 'Kaleyra SDK access token (a JWT)' }),
  expiresAt: Type.String({ description: 'When the token expires (ISO 8601)' }),
  bandyerUserId: Type.String({ description: 'Kaleyra id of the caller' })
}, {
  examples: [{
    accessToken: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyIjoidGNzLTNmMWQifQ.c2lnbmF0dXJl',
    expiresAt: '2030-01-10T11:41:19.000Z',
    bandyerUserId: 'tcs-3f1d9c0b6a2e4f5d8c7b6a5f4e3d2c1b0a9f8e7d'
  }]
})

export const errors = {
  badRequest: errorResponse(
    'Invalid body, or a caller without a Kaleyra user yet whose groups are in no list of the privileges',
    validationErrorExample('body.expiresIn must be >= 360'),
    'Failed POST /credentials: none of the user\'s groups is listed in the service privileges'
  ),
  unauthorized: errorResponse('No authenticated user in the request', 'Unauthorized user'),
  forbidden: errorResponse('CREDENTIALS_GROUPS is set and the caller is in none of them', 'Forbidden'),
  ...jsonBodyErrors,
  ...upstreamErrors
}
