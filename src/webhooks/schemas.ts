import { Type } from '../lib/typebox.js'
import { errorResponse } from '../lib/schemas.js'

export const KaleyraWebhookBodySchema = Type.Object({
  event: Type.String(),
  event_version: Type.Optional(Type.String()),
  namespace: Type.Optional(Type.String()),
  timestamp: Type.Optional(Type.Number()),
  data: Type.Optional(Type.Object({}, { additionalProperties: true }))
}, {
  description: 'Kaleyra\'s webhook envelope, read from the raw bytes after the signature check',
  examples: [{ event: 'on_recording_available', event_version: '1.0', namespace: 'room', timestamp: 1764676800000, data: { room_id: 'room_0123456789ab', session_id: 'session_0123456789abcdef0123' } }]
})

export const WebhookHeadersSchema = Type.Object({
  'bandyer-signature': Type.Optional(Type.String({ description: '`t=<unix seconds>,v0=<hex HMAC-SHA256(key, t + "." + raw body)>`', examples: ['t=1554193902,v0=6841e55cb12f2d9d1216c47097c75fd737a22a3a00c8d8f8d3d35fb2b613ce5b'] }))
})

export const WebhookAcceptedSchema = Type.Object({
  received: Type.Literal(true)
}, { description: 'Accepted; the event is applied right after (a replay changes nothing)', examples: [{ received: true }] })

export const webhookErrors = {
  400: errorResponse('Signed, but not a Kaleyra webhook envelope (or a known event without its ids)', 'Invalid webhook payload'),
  401: errorResponse('Missing or wrong signature, or signed too long ago (KALEYRA_WEBHOOK_TOLERANCE_S)', 'Invalid webhook signature', 'Webhook signature expired'),
  413: errorResponse('Body larger than 256 KB', 'Request body is too large')
}
