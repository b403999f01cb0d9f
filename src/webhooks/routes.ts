import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { KALEYRA_SIGNATURE_HEADER } from '../kaleyra/webhooks.js'
import { KaleyraWebhookBodySchema, WebhookAcceptedSchema, webhookErrors, WebhookHeadersSchema } from './schemas.js'
import type { KaleyraWebhookService } from './service.js'

const MAX_WEBHOOK_BYTES = 256 * 1024

/**
 * POST /webhooks/kaleyra (KALEYRA_WEBHOOKS=true). Its own scope: the body stays raw bytes, whatever the content type.
 */
export const kaleyraWebhookRoutes: FastifyPluginAsyncTypebox<{ webhooks: KaleyraWebhookService }> = async (
  fastify,
  { webhooks }
) => {
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_WEBHOOK_BYTES }, (_request, body, done) => { done(null, body) })

  fastify.post('/webhooks/kaleyra', {
    bodyLimit: MAX_WEBHOOK_BYTES,
    schema: {
      tags: ['Webhooks'],
      summary: 'Receive a Kaleyra webhook',
      description: 'Signed by Kaleyra with the company API key (or KALEYRA_WEBHOOK_SECRET). Handles on_room_deleted, on_recording_available and on_transcription_available; other events are answered 200 and ignored.',
      headers: WebhookHeadersSchema,
      body: KaleyraWebhookBodySchema,
      response: { 200: WebhookAcceptedSchema, ...webhookErrors }
    },
    // The body schema documents the envelope; the bytes are checked by the service (signature first).
    validatorCompiler: () => () => true
  }, async (request) => {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    webhooks.receive(raw, request.headers[KALEYRA_SIGNATURE_HEADER] as string | undefined, request.log)
    return { received: true as const }
  })
}
