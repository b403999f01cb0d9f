// What every /v2 request goes through: the request log, injected faults and the apikey check.
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { Readable } from 'node:stream'
import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { FaultList, FaultPlan } from './faults.js'
import { pathOf, queryOf } from './http.js'
import type { EmulatorState, RequestLogEntry } from './state.js'

/** Lets close() end pending delays and forget hanging requests. */
export class Lifecycle {
  readonly #controller = new AbortController()
  readonly #held = new Set<Socket>()

  get closing (): boolean {
    return this.#controller.signal.aborted
  }

  /** Resolves after ms, or at once when the emulator closes. */
  async sleep (ms: number): Promise<void> {
    if (ms <= 0 || this.closing) return
    const signal = this.#controller.signal
    await new Promise<void>(resolve => {
      const done = (): void => { clearTimeout(timer); signal.removeEventListener('abort', done); resolve() }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done)
    })
  }

  /** Keeps a connection open without answering, until the client leaves or the emulator closes. */
  hold (socket: Socket | null | undefined): void {
    if (socket == null || socket.destroyed) return
    this.#held.add(socket)
    socket.once('close', () => this.#held.delete(socket))
  }

  close (): void {
    this.#controller.abort()
    for (const socket of this.#held) socket.destroy()
    this.#held.clear()
  }
}

interface RequestContext { entry: RequestLogEntry, plan: FaultPlan }

const INJECTED = { error: 'internal_error', message: 'injected fault' }

export function isApiPath (url: string): boolean {
  return url === '/v2' || url.startsWith('/v2/') || url.startsWith('/v2?')
}

function sameKey (given: string | string[] | undefined, apiKey: Buffer): boolean {
  if (typeof given !== 'string') return false
  const buf = Buffer.from(given)
  return buf.length === apiKey.length && timingSafeEqual(buf, apiKey)
}

// A promise nothing resolves: the answer is never sent (the socket is destroyed or held).
const never = async (): Promise<never> => await new Promise<never>(() => {})

function discard (payload: unknown): void {
  if (payload instanceof Readable) payload.destroy()
}

export interface PipelineOptions { apiKey: string, state: EmulatorState, faults: FaultList, lifecycle: Lifecycle }

export function installApiPipeline (app: FastifyInstance, opts: PipelineOptions): void {
  const { state, faults, lifecycle } = opts
  const apiKey = Buffer.from(opts.apiKey)
  const contexts = new WeakMap<IncomingMessage, RequestContext>()

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isApiPath(request.url)) return
    const entry: RequestLogEntry = { method: request.method, path: pathOf(request.url), query: queryOf(request.url), status: 0 }
    state.logRequest(entry)
    const plan = faults.take(entry.method, entry.path)
    contexts.set(request.raw, { entry, plan })

    const terminal = plan.terminal
    if (terminal !== undefined && terminal.phase === 'before') {
      await lifecycle.sleep(plan.delayBefore)
      if (terminal.kind === 'status' && !lifecycle.closing) {
        reply.code(terminal.status).send(INJECTED)
        return reply
      }
      reply.hijack()
      if (terminal.kind === 'hang' && !lifecycle.closing) lifecycle.hold(request.raw.socket)
      else request.raw.socket?.destroy()
      return reply
    }
    if (!sameKey(request.headers.apikey, apiKey)) {
      reply.code(401).send({ error: 'invalid_api_key', message: 'Apikey is not valid' })
      return reply
    }
  })

  // Latency before handling waits once the body is read, so the request is processed even if
  // the client gave up meanwhile (as a slow real server would).
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const context = contexts.get(request.raw)
    if (context === undefined || context.plan.delayBefore === 0) return
    await lifecycle.sleep(context.plan.delayBefore)
    if (lifecycle.closing) {
      reply.hijack()
      request.raw.socket?.destroy()
      return reply
    }
  })

  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const context = contexts.get(request.raw)
    if (context === undefined) return payload
    const { plan, entry } = context
    await lifecycle.sleep(plan.delayAfter)
    if (lifecycle.closing && plan.delayAfter > 0) {
      discard(payload)
      request.raw.socket?.destroy()
      return await never()
    }
    const terminal = plan.terminal
    if (terminal !== undefined && terminal.phase === 'after') {
      plan.terminal = undefined
      discard(payload)
      if (terminal.kind === 'reset') {
        request.raw.socket?.destroy()
        return await never()
      }
      if (terminal.kind === 'hang') {
        lifecycle.hold(request.raw.socket)
        return await never()
      }
      reply.code(terminal.status)
      reply.removeHeader('content-length')
      reply.header('content-type', 'application/json; charset=utf-8')
      entry.status = terminal.status
      return JSON.stringify(INJECTED)
    }
    entry.status = reply.statusCode
    return payload
  })
}
