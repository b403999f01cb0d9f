// What every /v2 request goes through: the request log, injected faults and the apikey check.
import type { IncomingMessage } from 'node:http'
import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { installFaultHooks, Lifecycle } from './fault-hooks.js'
import type { FaultList } from './faults.js'
import { pathOf, queryOf } from './http.js'
import type { EmulatorState, RequestLogEntry } from './state.js'

export { Lifecycle }

const INJECTED = { error: 'internal_error', message: 'injected fault' }

export function isApiPath (url: string): boolean {
  return url === '/v2' || url.startsWith('/v2/') || url.startsWith('/v2?')
}

function sameKey (given: string | string[] | undefined, apiKey: Buffer): boolean {
  if (typeof given !== 'string') return false
  const buf = Buffer.from(given)
  return buf.length === apiKey.length && timingSafeEqual(buf, apiKey)
}

export interface PipelineOptions { apiKey: string, state: EmulatorState, faults: FaultList, lifecycle: Lifecycle }

export function installApiPipeline (app: FastifyInstance, opts: PipelineOptions): void {
  const { state } = opts
  const apiKey = Buffer.from(opts.apiKey)
  const entries = new WeakMap<IncomingMessage, RequestLogEntry>()

  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (!isApiPath(request.url)) return
    const entry: RequestLogEntry = {
      method: request.method,
      path: pathOf(request.url),
      query: queryOf(request.url),
      status: 0
    }
    state.logRequest(entry)
    state.noteUserAgent(request.headers['user-agent'])
    entries.set(request.raw, entry)
  })

  installFaultHooks(app, {
    faults: opts.faults,
    lifecycle: opts.lifecycle,
    applies: isApiPath,
    injectedBody: INJECTED,
    onAnswer: (request, status) => {
      const entry = entries.get(request.raw)
      if (entry !== undefined) entry.status = status
    }
  })

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isApiPath(request.url)) return
    if (!sameKey(request.headers.apikey, apiKey)) {
      reply.code(401).send({ error: 'invalid_api_key', message: 'Apikey is not valid' })
      return reply
    }
  })
}
