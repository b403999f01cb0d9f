// /v2/company and its virtual backgrounds; the images are served at /backgrounds/<alias>.jpg.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { VIRTUAL_BACKGROUND_FIELD, paths } from '../../kaleyra/wire.js'
import { MAX_BACKGROUND_BYTES } from '../../kaleyra/model.js'
import { ApiError, objectBody, validationError } from '../http.js'
import { randomHex, type BackgroundRecord, type EmulatorState } from '../state.js'

export const MAX_BACKGROUNDS = 10
const JPEG_TYPES = ['image/jpeg', 'image/jpg']
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff])

export function backgroundBody (
  state: EmulatorState,
  bg: BackgroundRecord
): { alias: string; url: string; creation_date: string } {
  return { alias: bg.alias, url: `${state.baseUrl}/backgrounds/${bg.alias}.jpg`, creation_date: bg.createdAt }
}

function companyBody (state: EmulatorState): Record<string, unknown> {
  const c = state.company
  const bg = c.defaultBackground === null ? undefined : state.backgrounds.get(c.defaultBackground)
  return {
    name: c.name,
    default_language: c.defaultLanguage,
    default_background: bg === undefined ? null : backgroundBody(state, bg),
    end_call_redirect_url: c.endCallRedirectUrl,
    user_details_provider_url: c.userDetailsProviderUrl,
    end_call_redirect_timeout_ms: c.endCallRedirectTimeoutMs
  }
}

/** Answering before the upload is read to its end: close the connection rather than read the rest. */
function stopReading (reply: FastifyReply, error: ApiError): ApiError {
  reply.header('connection', 'close')
  return error
}

const unsupported = (message: string): ApiError => new ApiError(415, 'unsupported_media_type', message)

/** Streams the upload: keeps at most MAX_BACKGROUND_BYTES and stops as soon as it knows the answer. */
async function readBackground (request: FastifyRequest, reply: FastifyReply): Promise<Buffer> {
  const part = await request.file({
    limits: { fileSize: MAX_BACKGROUND_BYTES + 1, files: 1 },
    throwFileSizeLimit: false
  })
  if (part === undefined) throw validationError(`multipart field ${VIRTUAL_BACKGROUND_FIELD} is required`)
  if (part.fieldname !== VIRTUAL_BACKGROUND_FIELD) {
    throw stopReading(reply, validationError(`multipart field ${VIRTUAL_BACKGROUND_FIELD} is required, got ${part.fieldname}`))
  }
  if (!JPEG_TYPES.includes(part.mimetype.toLowerCase())) {
    throw stopReading(reply, unsupported('mime-type must be image/jpg or image/jpeg'))
  }
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of part.file) {
    const buf = chunk as Buffer
    if (total < JPEG_MAGIC.length && total + buf.length >= JPEG_MAGIC.length) {
      const head = Buffer.concat([...chunks, buf]).subarray(0, JPEG_MAGIC.length)
      if (!head.equals(JPEG_MAGIC)) throw stopReading(reply, unsupported('the file is not a JPEG image'))
    }
    total += buf.length
    if (total > MAX_BACKGROUND_BYTES) {
      throw stopReading(reply, new ApiError(413, 'payload_too_large', `Max file size is ${MAX_BACKGROUND_BYTES / 1024 / 1024}MB`))
    }
    chunks.push(buf)
  }
  if (total === 0) throw validationError('the virtual background file is empty')
  if (total < JPEG_MAGIC.length) throw unsupported('the file is not a JPEG image')
  return Buffer.concat(chunks, total)
}

export function registerCompanyRoutes (app: FastifyInstance, state: EmulatorState): void {
  app.get(paths.company(), async () => companyBody(state))

  app.put(paths.company(), async (request) => {
    const body = objectBody(request.body, ['background_alias'])
    const alias = body.background_alias
    if (typeof alias !== 'string' || !state.backgrounds.has(alias)) {
      throw validationError('body.background_alias must be the alias of an uploaded virtual background')
    }
    state.company.defaultBackground = alias
    return companyBody(state)
  })

  app.post(paths.virtualBackground(), async (request, reply) => {
    if (!request.isMultipart()) throw unsupported('expected multipart/form-data')
    if (state.backgrounds.size >= MAX_BACKGROUNDS) {
      throw stopReading(reply, validationError(`There is a maximum of ${MAX_BACKGROUNDS} virtual backgrounds per company`))
    }
    const bytes = await readBackground(request, reply)
    const bg: BackgroundRecord = { alias: randomHex(16), bytes, createdAt: new Date().toISOString() }
    state.backgrounds.set(bg.alias, bg)
    reply.code(201)
    return backgroundBody(state, bg)
  })

  app.get(paths.virtualBackgrounds(), async () => ({
    virtual_backgrounds: [...state.backgrounds.values()].map(bg => backgroundBody(state, bg))
  }))
}
