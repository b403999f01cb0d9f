import { readPackage } from '../lib/package-info.js'
import { signatureHeader } from '../lib/signature.js'
import { UpstreamError } from '../upstream/errors.js'
import { HttpUpstream, type UpstreamObserver } from '../upstream/http.js'
import type { OutgoingEvent } from './types.js'

/** The header carrying `t=<unix seconds>,v0=<hex HMAC-SHA256(secret, t + "." + raw body)>` (docs/events.md). */
export const EVENT_SIGNATURE_HEADER = 'x-teleconsultation-signature'
/** The event id again, so a receiver can deduplicate before parsing the body. */
export const EVENT_ID_HEADER = 'x-teleconsultation-event-id'

/** What became of one delivery: accepted (2xx), or why not (a status, or a failure such as `timeout`). */
export type SendOutcome = { ok: true } | { ok: false, status?: number, failure?: string }

export interface EventSender {
  /** One attempt; never throws. */
  send: (event: OutgoingEvent) => Promise<SendOutcome>
  close: () => Promise<void>
}

/**
 * POSTs events to EVENTS_WEBHOOK_URL over a pool of its own (a slow receiver never takes the
 * connections of Kaleyra or CRUD calls). No retry here: the outbox retries with back-off.
 */
export function createEventSender (opts: {
  url: string
  secret: string
  timeoutMs: number
  now?: () => number
  observer?: UpstreamObserver
}): EventSender {
  const now = opts.now ?? Date.now
  const pkg = readPackage()
  const http = new HttpUpstream({
    target: 'events', baseUrl: opts.url, timeoutMs: opts.timeoutMs, connections: 4, retries: 0, observer: opts.observer, userAgent: `${pkg.name}/${pkg.version}`
  })
  return {
    async send (event) {
      const body = JSON.stringify(event)
      try {
        const res = await http.request({
          operation: 'events.deliver',
          method: 'POST',
          path: '',
          url: opts.url,
          body,
          headers: {
            'content-type': 'application/json',
            [EVENT_SIGNATURE_HEADER]: signatureHeader(opts.secret, Math.floor(now() / 1000), body),
            [EVENT_ID_HEADER]: event.id
          },
          retry: false
        })
        await res.body.dump()
        return res.statusCode >= 200 && res.statusCode < 300 ? { ok: true } : { ok: false, status: res.statusCode }
      } catch (err) {
        return { ok: false, failure: err instanceof UpstreamError ? err.failure : 'network' }
      }
    },
    async close () {
      await http.close()
    }
  }
}
