// The emulator's Fastify instance: the /v2 pipeline, the Kaleyra routes, the controls and the pages.
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import multipart from '@fastify/multipart'
import { registerControlRoutes } from './control.js'
import type { FaultList } from './faults.js'
import { ApiError } from './http.js'
import { registerPages } from './pages.js'
import { installApiPipeline, type Lifecycle } from './pipeline.js'
import { registerCompanyRoutes } from './routes/company.js'
import { registerRoomRoutes } from './routes/rooms.js'
import { registerSdkRoutes } from './routes/sdk.js'
import { registerSessionRoutes } from './routes/sessions.js'
import { registerUploadRoutes } from './routes/uploads.js'
import { registerUserRoutes } from './routes/users.js'
import type { EmulatorState } from './state.js'

export interface EmulatorAppOptions {
  apiKey: string
  logger: boolean
  state: EmulatorState
  faults: FaultList
  lifecycle: Lifecycle
  reset: () => void
}

/** Fastify's own errors (bad JSON, wrong content type, ...) in Kaleyra's `{ error, message }` shape. */
function errorAnswer (err: FastifyError | ApiError): { status: number, body: { error: string, message: string } } {
  if (err instanceof ApiError) return { status: err.statusCode, body: { error: err.errorName, message: err.message } }
  const status = err.statusCode ?? 500
  if (status === 413) return { status, body: { error: 'payload_too_large', message: err.message } }
  if (status === 415 || status === 406) return { status: 415, body: { error: 'unsupported_media_type', message: err.message } }
  if (status >= 400 && status < 500) return { status, body: { error: 'bad_request', message: err.message } }
  return { status: 500, body: { error: 'internal_error', message: 'unexpected emulator error' } }
}

export async function buildEmulatorApp (opts: EmulatorAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger,
    forceCloseConnections: true,
    bodyLimit: 32 * 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true }
  })
  await app.register(multipart)
  // Kaleyra takes JSON (and multipart for uploads) only.
  app.removeContentTypeParser('text/plain')

  installApiPipeline(app, opts)
  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    const { status, body } = errorAnswer(err)
    if (status >= 500) request.log.error({ err }, 'emulator error')
    return reply.code(status).send(body)
  })
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` })
  })

  registerUserRoutes(app, opts.state)
  registerRoomRoutes(app, opts.state)
  registerUploadRoutes(app, opts.state)
  registerSdkRoutes(app, opts.state, opts.apiKey)
  registerCompanyRoutes(app, opts.state)
  registerSessionRoutes(app, opts.state)
  registerControlRoutes(app, opts.state, opts.faults, opts.reset)
  registerPages(app, opts.state)
  return app
}
