import createError from '@fastify/error'
import type { FastifyInstance } from 'fastify'

const PlainTextBody = createError<[string]>('FST_ERR_CTP_INVALID_MEDIA_TYPE', 'Unsupported Media Type: %s (send application/json)', 415)

/**
 * For a scope whose routes take JSON: a text/plain body (which Fastify would parse as a string, to fail the
 * schema with "body must be object") is refused as 415. An empty one stays accepted, as before.
 */
export function refusePlainText (scope: FastifyInstance): void {
  scope.removeContentTypeParser('text/plain')
  scope.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') done(null, undefined)
    else done(new PlainTextBody('text/plain'), undefined)
  })
}
