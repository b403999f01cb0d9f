import type { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'

export interface ServerTimeouts {
  /** A request other than a multipart upload must be received in full (headers and body) within this. */
  requestTimeoutMs: number
  /** Headers must be received within this (Node's headersTimeout). */
  headersTimeoutMs: number
  /**
   * At close, how long requests still in progress may go on; then their connections are closed
   * too, so the shutdown ends in bounded time (default SHUTDOWN_DRAIN_MS).
   */
  shutdownDrainMs?: number
}

/** Default of shutdownDrainMs: with the pools' grace, the close ends within 5 s of its start. */
export const SHUTDOWN_DRAIN_MS = 3_500

/** How often shutdown looks for stalled connections; one that received nothing over a period is closed. */
const STALL_CHECK_MS = 1_000

function isMultipart (req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/')
}

/** No body announced: the request was whole with its headers (headersTimeout covered them). */
function hasNoBody (req: IncomingMessage): boolean {
  return req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined
}

/**
 * Slow and stalled clients (docs/operations.md, "Timeouts"): Node's headers timeout; a deadline to
 * receive every request but multipart uploads (they have UPLOAD_IDLE_TIMEOUT_MS instead); and, at
 * close, connections that are idle or stalled — nothing received for a second while no complete
 * request is being answered — are closed, so a stalled client cannot hold the shutdown; and
 * requests still in progress after shutdownDrainMs have their connections closed as well.
 */
export function installServerTimeouts (app: FastifyInstance, opts: ServerTimeouts): void {
  const server = app.server
  server.headersTimeout = opts.headersTimeoutMs
  const sockets = new Set<Socket>()
  const current = new Map<Socket, IncomingMessage>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => { sockets.delete(socket); current.delete(socket) })
  })

  /** A request whose body is still to come gets requestTimeoutMs to arrive whole. */
  const watch = (raw: IncomingMessage, log: FastifyBaseLogger): void => {
    // Injected requests (tests) have no real connection to close.
    if (!(raw.socket instanceof Socket)) return
    current.set(raw.socket, raw)
    if (raw.complete || hasNoBody(raw) || isMultipart(raw)) return
    const timer = setTimeout(() => {
      if (!raw.complete) {
        log.info({ timeoutMs: opts.requestTimeoutMs }, 'request not received in time: connection closed')
        raw.socket.destroy()
      }
    }, opts.requestTimeoutMs)
    timer.unref()
    // Also off the socket: a keep-alive connection serves many requests.
    const stop = (): void => {
      clearTimeout(timer)
      raw.socket.off('close', stop)
    }
    raw.once('end', stop)
    raw.socket.once('close', stop)
  }
  // Callback hooks: they run on every request, and an async hook costs a promise each time.
  app.addHook('onRequest', (request, _reply, done) => {
    watch(request.raw, request.log)
    done()
  })
  app.addHook('onResponse', (request, _reply, done) => {
    if (current.get(request.raw.socket) === request.raw) current.delete(request.raw.socket)
    done()
  })

  let sweeper: NodeJS.Timeout | undefined
  let drainer: NodeJS.Timeout | undefined
  app.addHook('preClose', async () => {
    const seen = new Map<Socket, number>()
    const sweep = (): void => {
      for (const socket of sockets) {
        const req = current.get(socket)
        const answering = req !== undefined && req.complete
        const read = socket.bytesRead
        if (!answering && seen.get(socket) === read) socket.destroy()
        else seen.set(socket, read)
      }
    }
    sweep()
    sweeper = setInterval(sweep, STALL_CHECK_MS)
    sweeper.unref()
    const drainMs = opts.shutdownDrainMs ?? SHUTDOWN_DRAIN_MS
    drainer = setTimeout(() => {
      if (sockets.size === 0) return
      app.log.warn({ connections: sockets.size, drainMs }, 'requests still in progress at the end of the shutdown drain: their connections are closed')
      for (const socket of sockets) socket.destroy()
    }, drainMs)
    drainer.unref()
  })
  app.addHook('onClose', async () => { clearInterval(sweeper); clearTimeout(drainer) })
}
