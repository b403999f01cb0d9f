// Injected faults on a Fastify server: latency, error statuses, resets and hangs, before or after
// the request is processed. Used by the Kaleyra emulator and by the test fakes of other upstreams.
import type { Socket } from 'node:net'
import { Readable } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { FaultList, FaultPlan } from './faults.js'
import { pathOf } from './http.js'

/** Lets close() end pending delays and forget hanging requests. */
export class Lifecycle {
  readonly #controller = new AbortController()
  readonly #held = new Set<Socket>()

  get closing (): boolean {
    return this.#controller.signal.aborted
  }

  /** Resolves after ms, or at once when the server closes. */
  async sleep (ms: number): Promise<void> {
    if (ms <= 0 || this.closing) return
    const signal = this.#controller.signal
    await new Promise<void>(resolve => {
      const done = (): void => { clearTimeout(timer); signal.removeEventListener('abort', done); resolve() }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done)
    })
  }

  /** Keeps a connection open without answering, until the client leaves or the server closes. */
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

export interface FaultHookOptions {
  faults: FaultList
  lifecycle: Lifecycle
  /** Which requests faults may apply to (by URL, query included). */
  applies: (url: string) => boolean
  /** Body of an answer replaced by an injected status. */
  injectedBody: unknown
  /** Told the status actually sent for a request faults apply to (an injected one included). */
  onAnswer?: (request: FastifyRequest, status: number) => void
}

// A promise nothing resolves: the answer is never sent (the socket is destroyed or held).
const never = async (): Promise<never> => await new Promise<never>(() => {})

function discard (payload: unknown): void {
  if (payload instanceof Readable) payload.destroy()
}

/** Registers the hooks; call it before hooks that may answer on their own (e.g. an auth check). */
export function installFaultHooks (app: FastifyInstance, opts: FaultHookOptions): void {
  const { faults, lifecycle } = opts
  const plans = new WeakMap<IncomingMessage, FaultPlan>()

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!opts.applies(request.url)) return
    const plan = faults.take(request.method, pathOf(request.url))
    plans.set(request.raw, plan)
    const terminal = plan.terminal
    if (terminal === undefined || terminal.phase !== 'before') return
    await lifecycle.sleep(plan.delayBefore)
    if (terminal.kind === 'status' && !lifecycle.closing) {
      if (terminal.retryAfter !== undefined) reply.header('retry-after', terminal.retryAfter)
      reply.code(terminal.status).send(opts.injectedBody)
      return reply
    }
    reply.hijack()
    if (terminal.kind === 'hang' && !lifecycle.closing) lifecycle.hold(request.raw.socket)
    else request.raw.socket?.destroy()
    return reply
  })

  // Latency before handling waits once the body is read, so the request is processed even if
  // the client gave up meanwhile (as a slow real server would).
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const plan = plans.get(request.raw)
    if (plan === undefined || plan.delayBefore === 0) return
    await lifecycle.sleep(plan.delayBefore)
    if (lifecycle.closing) {
      reply.hijack()
      request.raw.socket?.destroy()
      return reply
    }
  })

  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const plan = plans.get(request.raw)
    if (plan === undefined) return payload
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
      if (terminal.retryAfter !== undefined) reply.header('retry-after', terminal.retryAfter)
      reply.removeHeader('content-length')
      reply.header('content-type', 'application/json; charset=utf-8')
      opts.onAnswer?.(request, terminal.status)
      return JSON.stringify(opts.injectedBody)
    }
    opts.onAnswer?.(request, reply.statusCode)
    return payload
  })
}
