// Kaleyra's webhook deliveries as the service reads them (reference: docs/kaleyra.md, webhooks).
import { Type } from '../lib/typebox.js'
import { checkerOf } from '../lib/type-check.js'
import { KALEYRA_ID_REGEX } from './model.js'

/** The header Kaleyra signs webhooks with: `t=<unix seconds>,v0=<hex HMAC>`. */
export const KALEYRA_SIGNATURE_HEADER = 'bandyer-signature'

const EnvelopeSchema = Type.Object({
  event: Type.String({ minLength: 1, maxLength: 100 }),
  event_version: Type.Optional(Type.Unknown()),
  namespace: Type.Optional(Type.Unknown()),
  timestamp: Type.Optional(Type.Unknown()),
  // Older payloads carry `data` as a JSON string.
  data: Type.Optional(Type.Unknown())
})
const envelope = checkerOf(EnvelopeSchema)

export type KaleyraWebhook =
  | { kind: 'room_deleted', event: string, roomId: string }
  | { kind: 'recording_available' | 'transcription_available', event: string, roomId: string, sessionId: string }
  | { kind: 'other', event: string }

const KINDS: Record<string, 'room_deleted' | 'recording_available' | 'transcription_available'> = {
  on_room_deleted: 'room_deleted',
  on_recording_available: 'recording_available',
  on_transcription_available: 'transcription_available'
}

function id (value: unknown): string | null {
  return typeof value === 'string' && KALEYRA_ID_REGEX.test(value) ? value : null
}

function dataOf (raw: unknown): Record<string, unknown> {
  let data = raw
  if (typeof data === 'string') {
    try { data = JSON.parse(data) } catch { return {} }
  }
  return typeof data === 'object' && data !== null && !Array.isArray(data) ? data as Record<string, unknown> : {}
}

/** A delivery's meaning; null when it is not a Kaleyra envelope, or names a known event without its ids. */
export function parseKaleyraWebhook (body: unknown): KaleyraWebhook | null {
  if (!envelope.Check(body)) return null
  const kind = KINDS[body.event]
  if (kind === undefined) return { kind: 'other', event: body.event }
  const data = dataOf(body.data)
  const roomId = id(data.room_id)
  if (roomId === null) return null
  if (kind === 'room_deleted') return { kind, event: body.event, roomId }
  const sessionId = id(data.session_id)
  return sessionId === null ? null : { kind, event: body.event, roomId, sessionId }
}
