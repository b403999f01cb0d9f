import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * The `bandyer-signature` scheme Kaleyra signs its webhooks with, which the service also uses for
 * the events it sends: `t=<unix seconds>,v0=<hex HMAC-SHA256(secret, t + "." + raw body)>`.
 */
export function signatureOf (secret: string, timestamp: number | string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')
}

/** The header value for `body` signed at `timestampS`. */
export function signatureHeader (secret: string, timestampS: number, body: Buffer | string): string {
  return `t=${timestampS},v0=${signatureOf(secret, timestampS, body)}`
}

export type SignatureCheck = 'valid' | 'missing' | 'invalid' | 'stale'

const HEX_64 = /^[0-9a-f]{64}$/

/**
 * Checks a signature header over the raw bytes received, in constant time; `t` must be within
 * `toleranceS` of `nowS` (either way: a clock ahead is as suspect as a replay).
 */
export function checkSignature (
  header: string | undefined,
  body: Buffer,
  secret: string,
  nowS: number,
  toleranceS: number
): SignatureCheck {
  if (header === undefined || header === '') return 'missing'
  let t: string | undefined
  const candidates: string[] = []
  for (const part of header.split(',')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const key = part.slice(0, eq).trim()
    const value = part.slice(eq + 1).trim()
    if (key === 't') t = value
    else if (key === 'v0') candidates.push(value.toLowerCase())
  }
  if (t === undefined || !/^\d{1,12}$/.test(t) || candidates.length === 0) return 'invalid'
  const expected = Buffer.from(signatureOf(secret, t, body), 'hex')
  const matches = candidates.some(c => HEX_64.test(c) && timingSafeEqual(Buffer.from(c, 'hex'), expected))
  if (!matches) return 'invalid'
  return Math.abs(nowS - Number(t)) > toleranceS ? 'stale' : 'valid'
}
