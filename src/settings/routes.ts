import formBody from '@fastify/formbody'
import multipart, { type MultipartFile } from '@fastify/multipart'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { BadUpload, TooManyUploads, UploadIdle, UnsupportedUpload } from '../lib/errors.js'
import { CALLER_SECURITY, FORM_OR_JSON, formOrJsonUnsupported } from '../lib/schemas.js'
import {
  BACKGROUND_UPLOAD_FIELD, BackgroundUploadBodySchema, BackgroundUploadedSchema, CompanySchema, CompanyUpdateBodySchema,
  errors
} from './schemas.js'
import { MAX_BACKGROUND_UPLOAD_BYTES, type SettingsService } from './service.js'

const tags = ['Settings']

/** Multipart parsing errors from the request itself (bad boundary, truncated body): a 400, never a 500. */
function multipartError (err: unknown): Error {
  const status = (err as { statusCode?: number }).statusCode
  if (err instanceof UploadIdle) return err
  if (typeof status === 'number' && status >= 400 && status < 500) return err as Error
  return new BadUpload('malformed multipart body')
}

type SettingsRoutesOptions = { settings: SettingsService }

export const settingsRoutes: FastifyPluginAsyncTypebox<SettingsRoutesOptions> = async (fastify, { settings }) => {
  // Only this plugin accepts multipart bodies. The busboy limit is one byte above ours, so the
  // service sees the excess and answers 413 rather than a silently truncated file.
  await fastify.register(multipart, {
    throwFileSizeLimit: false,
    limits: {
      fileSize: MAX_BACKGROUND_UPLOAD_BYTES + 1, files: 1, fields: 10, parts: 20, fieldSize: 1024, headerPairs: 50
    }
  })
  // PATCH /settings/update also takes a form body, as custom-plugin-lib did.
  await fastify.register(formBody)

  fastify.post('/settings/background-image', {
    config: { refusal: { label: 'POST /settings/background-image' } },
    schema: {
      tags,
      summary: 'Upload a company virtual background',
      security: CALLER_SECURITY,
      description: `multipart/form-data with the JPEG in the field \`${BACKGROUND_UPLOAD_FIELD}\` (at most 10 MB), streamed to Kaleyra. Answers the alias to give to PATCH /settings/update.`,
      consumes: ['multipart/form-data'],
      body: BackgroundUploadBodySchema,
      response: {
        200: BackgroundUploadedSchema,
        400: errors.badRequest,
        401: errors.unauthorized,
        403: errors.forbidden,
        408: errors.idle,
        413: errors.tooLarge,
        415: errors.unsupported,
        429: errors.tooManyUploads,
        502: errors[502],
        503: errors[503],
        504: errors[504]
      }
    },
    // The body schema documents the form; the file is checked while it streams, not as an object.
    validatorCompiler: () => () => true
  }, async (request, reply) => {
    let release = (): void => {}
    try {
      await settings.authorize(request.ctx)
      if (!request.isMultipart()) {
        throw new UnsupportedUpload(`expected multipart/form-data with a ${BACKGROUND_UPLOAD_FIELD} JPEG file`)
      }
      release = settings.beginUpload(request.ctx)
      let part: MultipartFile | undefined
      const first = request.file()
      // Given up when the client goes idle: its later failure (the connection closing) is expected.
      first.catch(() => {})
      try {
        part = await settings.fromClient(first)
      } catch (err) {
        throw multipartError(err)
      }
      if (part?.fieldname !== BACKGROUND_UPLOAD_FIELD) {
        throw new BadUpload(`multipart field ${BACKGROUND_UPLOAD_FIELD} is required`)
      }
      const file = part.file
      return await settings.uploadBackground({
        filename: part.filename,
        mimetype: part.mimetype,
        content: file,
        abort: () => { file.destroy() }
      })
    } catch (err) {
      // The rest of a refused upload is not read: close the connection instead of draining it.
      reply.header('connection', 'close')
      if (err instanceof TooManyUploads) reply.header('retry-after', String(err.retryAfterSeconds))
      throw err
    } finally {
      release()
    }
  })

  fastify.patch('/settings/update', {
    config: { refusal: { label: 'PATCH /settings/update' } },
    schema: {
      tags,
      summary: 'Choose the company default virtual background',
      security: CALLER_SECURITY,
      description: 'Sets the background used by links that ask for one (useBackground, groupsWithBackgroundList).',
      consumes: FORM_OR_JSON,
      body: CompanyUpdateBodySchema,
      response: {
        200: CompanySchema,
        400: errors.updateBadRequest,
        401: errors.unauthorized,
        403: errors.forbidden,
        413: errors.bodyTooLarge,
        415: formOrJsonUnsupported,
        502: errors[502],
        503: errors[503],
        504: errors[504]
      }
    }
  }, async (request) => {
    await settings.authorize(request.ctx)
    return await settings.setDefaultBackground(request.body.background_alias)
  })
}
