// A receiver of the service's events (EVENTS_WEBHOOK_URL) on 127.0.0.1 that checks each delivery
// as docs/events.md tells receivers to: HMAC-SHA256 over `t + "." + raw body`, in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedEvent {
  raw: string
  headers: Record<string, string | string[] | undefined>
  /** The documented check passed. */
  verified: boolean
  /** What the receiver answered. */
  status: number
  body: { id: string, type: string, occurredAt: string, teleconsultationId: string, data: Record<string, unknown> }
}

export interface EventsReceiver {
  readonly url: string
  /** Every delivery in arrival order (refused ones included). */
  received: ReceivedEvent[]
  /** The accepted deliveries. */
  accepted: () => ReceivedEvent[]
  /** What to answer from now on (default 204). */
  answer: (status: number) => void
  /** Stops listening (connections refused) until `start`. */
  stop: () => Promise<void>
  /** Listens again on the same port. */
  start: () => Promise<void>
}

/** The verification snippet of docs/events.md. */
export function verifyEventSignature (
  secret: string,
  header: string | undefined,
  raw: string,
  toleranceS = 300
): boolean {
  const parts = Object.fromEntries((header ?? '').split(',').map(p => p.split('=', 2).map(s => s.trim())))
  const t = Number(parts.t)
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceS || typeof parts.v0 !== 'string') return false
  const expected = createHmac('sha256', secret).update(`${parts.t as string}.`).update(raw).digest()
  const given = Buffer.from(parts.v0, 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

export async function startEventsReceiver (
  t: { teardown: (fn: () => unknown) => void },
  secret: string
): Promise<EventsReceiver> {
  const received: ReceivedEvent[] = []
  let status = 204
  let port = 0
  let server: Server | undefined

  async function start (): Promise<void> {
    const s = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        const verified = verifyEventSignature(secret, req.headers['x-teleconsultation-signature'] as string | undefined, raw)
        const answered = verified ? status : 401
        received.push({ raw, headers: req.headers, verified, status: answered, body: JSON.parse(raw) })
        res.writeHead(answered).end()
      })
    })
    await new Promise<void>(resolve => s.listen(port, '127.0.0.1', resolve))
    port = (s.address() as AddressInfo).port
    server = s
  }

  async function stop (): Promise<void> {
    const s = server
    server = undefined
    if (s === undefined) return
    s.closeAllConnections()
    await new Promise<void>(resolve => s.close(() => resolve()))
  }

  await start()
  t.teardown(stop)
  return {
    url: `http://127.0.0.1:${port}/hooks/teleconsultations?tenant=t1`,
    received,
    accepted: () => received.filter(r => r.status >= 200 && r.status < 300),
    answer (next) { status = next },
    stop,
    start
  }
}
