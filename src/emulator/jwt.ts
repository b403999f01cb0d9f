// HS256 JSON Web Tokens as Kaleyra's SDK credentials carry them, signed with the api key.
import { createHmac } from 'node:crypto'

export const TOKEN_ISSUER = '@switchboard-core'

export interface SdkTokenClaims { user: string, iat: number, exp: number, iss: string }

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

export function signSdkToken (
  apiKey: string,
  userId: string,
  expiresIn: number,
  now = Date.now()
): { token: string; claims: SdkTokenClaims } {
  const iat = Math.floor(now / 1000)
  const claims: SdkTokenClaims = { user: userId, iat, exp: iat + expiresIn, iss: TOKEN_ISSUER }
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`
  const signature = createHmac('sha256', apiKey).update(unsigned).digest('base64url')
  return { token: `${unsigned}.${signature}`, claims }
}
