import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { settleEach } from '../lib/concurrency.js'
import type { EventOutboxStore, OutboxEntry } from '../store/outbox.js'
import type { EventSender } from './sender.js'
import type { EventPublisher, IntegrationObserver, OutgoingEvent } from './types.js'

export interface EventDeliveryOptions {
  /** How often due entries (retries) are looked for (default 5 s; 0: only after a publish or when tick() is called). */
  intervalMs?: number
  /** Entries sent at most per pass (default 20), `concurrency` at a time (default 4). */
  batch?: number
  concurrency?: number
  /**
   * First retry delay; it doubles on every failure, up to `retryMaxDelayMs`, with ±50% jitter (default 5 s, 15 min).
   */
  retryBaseMs?: number
  retryMaxDelayMs?: number
  /** Delays between attempts to write an entry the outbox could not take (default 1 s, 5 s, 30 s). */
  storeRetryDelaysMs?: number[]
}

export type EventDelivery = ReturnType<typeof createEventDelivery>

const iso = (ms: number): string => new Date(ms).toISOString()

/**
 * EVENTS_WEBHOOK_URL, at least once: publishing writes an outbox entry (never throwing, never
 * waited for by the request); a pass sends the due entries. Each is first claimed by a write
 * conditional on its version, which moves it out of sight for a lease, so two replicas do not send
 * it at the same time; delivered, it is removed; refused or unanswered, it is due again after a
 * back-off, until EVENTS_RETRY_FOR_MS after the event, then marked failed. A replica that dies
 * mid-delivery leaves the entry to be sent again once the lease ends: the event id lets
 * receivers deduplicate.
 */
export function createEventDelivery (deps: {
  outbox: EventOutboxStore
  sender: EventSender
  log: FastifyBaseLogger
  retryForMs: number
  /** Deadline of one delivery: the lease of a claim is twice it plus 10 s. */
  timeoutMs: number
  observer?: IntegrationObserver
  now?: () => number
}, opts: EventDeliveryOptions = {}) {
  const now = deps.now ?? Date.now
  const batch = opts.batch ?? 20
  const concurrency = opts.concurrency ?? 4
  const retryBase = opts.retryBaseMs ?? 5_000
  const retryMax = opts.retryMaxDelayMs ?? 15 * 60_000
  const storeRetryDelays = opts.storeRetryDelaysMs ?? [1_000, 5_000, 30_000]
  const leaseMs = 2 * deps.timeoutMs + 10_000
  const writes = new Set<Promise<void>>()
  const timers = new Set<NodeJS.Timeout>()
  let closed = false
  let running: Promise<number> | undefined
  let again = false

  function backoff (attempts: number): number {
    const base = Math.min(retryBase * 2 ** Math.max(0, attempts - 1), retryMax)
    return Math.round(base * (0.5 + Math.random()))
  }

  /** Sends one claimed entry; true when the receiver accepted it. */
  async function deliver (entry: OutboxEntry): Promise<boolean> {
    const { event } = entry
    const claimed = await deps.outbox.update(entry.key, entry.version, {
      attempts: entry.attempts + 1,
      nextAttemptAt: iso(now() + leaseMs)
    })
    // Another replica claimed it (or delivered it) since it was listed.
    if (claimed === null) return false
    const outcome = await deps.sender.send(event)
    const about = {
      eventId: event.id,
      type: event.type,
      teleconsultationId: event.teleconsultationId,
      attempts: claimed.attempts
    }
    if (outcome.ok) {
      deps.observer?.eventDelivered(event.type)
      deps.log.debug(about, 'event delivered')
      await deps.outbox.remove(claimed.key)
      return true
    }
    const delay = backoff(claimed.attempts)
    const refusal = { status: outcome.status ?? null, failure: outcome.failure ?? null }
    if (now() + delay - Date.parse(event.occurredAt) > deps.retryForMs) {
      await deps.outbox.update(claimed.key, claimed.version, { status: 'failed' })
      deps.observer?.eventFailed(event.type)
      deps.log.error({ ...about, ...refusal }, 'event given up: EVENTS_RETRY_FOR_MS passed without the receiver accepting it')
      return false
    }
    await deps.outbox.update(claimed.key, claimed.version, { nextAttemptAt: iso(now() + delay) })
    deps.log.warn({ ...about, ...refusal, nextAttemptInMs: delay }, 'event not delivered, will retry')
    return false
  }

  async function pass (): Promise<number> {
    const due = await deps.outbox.listDue(iso(now()), batch)
    const results = await settleEach(due, deliver, concurrency)
    for (const result of results) {
      if (result.status === 'rejected') deps.log.warn({ err: result.reason }, 'event delivery bookkeeping failed')
    }
    return results.filter(r => r.status === 'fulfilled' && r.value).length
  }

  async function passes (): Promise<number> {
    let delivered = 0
    for (;;) {
      again = false
      delivered += await pass()
      if (!again || closed) return delivered
    }
  }

  /**
   * One pass (another follows if events were published meanwhile); concurrent calls share it. Resolves to the events
   * delivered.
   */
  async function tick (): Promise<number> {
    running ??= passes().finally(() => { running = undefined })
    return await running
  }

  function kick (): void {
    again = true
    if (!closed) tick().catch(err => deps.log.warn({ err }, 'event delivery failed'))
  }

  function track (write: Promise<void>): void {
    writes.add(write)
    write.finally(() => writes.delete(write)).catch(() => {})
  }

  /** Writes the entry, retrying a store failure a few times; then sends it at once. */
  async function store (event: OutgoingEvent, attempt: number): Promise<void> {
    try {
      await deps.outbox.add(event)
    } catch (err) {
      const next = storeRetryDelays[attempt]
      const about = { err, eventId: event.id, type: event.type, teleconsultationId: event.teleconsultationId }
      if (next === undefined || closed) {
        deps.log.error(about, 'event lost: the outbox could not store it')
        return
      }
      deps.log.warn({ ...about, nextAttemptInMs: next }, 'event not stored in the outbox yet')
      const timer = setTimeout(() => { timers.delete(timer); track(store(event, attempt + 1)) }, next)
      timer.unref()
      timers.add(timer)
      return
    }
    kick()
  }

  const publisher: EventPublisher = {
    publish (type, teleconsultationId, data = {}) {
      const event: OutgoingEvent = {
        id: randomUUID(),
        type,
        occurredAt: iso(now()),
        teleconsultationId,
        data: { ...data }
      }
      track(store(event, 0))
    }
  }

  const interval = opts.intervalMs ?? 5_000
  const timer = interval > 0
    ? setInterval(() => { if (!closed) tick().catch(err => deps.log.warn({ err }, 'event delivery failed')) }, interval)
    : undefined
  timer?.unref()

  return {
    publisher,
    tick,

    /** Resolves when no entry is being written or sent (tests). */
    async idle (): Promise<void> {
      const busy = (): boolean => writes.size > 0 || running !== undefined
      while (busy()) await Promise.allSettled([...writes, running])
    },

    /** Stops the timer and waits for the writes and the pass under way; undelivered entries stay in the outbox. */
    async close (): Promise<void> {
      while (writes.size > 0) await Promise.allSettled([...writes])
      closed = true
      if (timer !== undefined) clearInterval(timer)
      for (const t of timers) clearTimeout(t)
      timers.clear()
      await running?.catch(() => {})
      await deps.sender.close()
    }
  }
}
