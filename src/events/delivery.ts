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

export interface EventDeliveryDeps {
  outbox: EventOutboxStore
  sender: EventSender
  log: FastifyBaseLogger
  retryForMs: number
  /** Deadline of one delivery: the lease of a claim is twice it plus 10 s. */
  timeoutMs: number
  observer?: IntegrationObserver
  now?: () => number
}

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
export class EventDelivery {
  /** What the services publish through (never throws, never waits). */
  readonly publisher: EventPublisher
  readonly #deps: EventDeliveryDeps
  readonly #now: () => number
  readonly #batch: number
  readonly #concurrency: number
  readonly #retryBase: number
  readonly #retryMax: number
  readonly #storeRetryDelays: number[]
  readonly #leaseMs: number
  readonly #writes = new Set<Promise<void>>()
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #timer: NodeJS.Timeout | undefined
  #closed = false
  #running: Promise<number> | undefined
  #again = false

  constructor (deps: EventDeliveryDeps, opts: EventDeliveryOptions = {}) {
    this.#deps = deps
    this.#now = deps.now ?? Date.now
    this.#batch = opts.batch ?? 20
    this.#concurrency = opts.concurrency ?? 4
    this.#retryBase = opts.retryBaseMs ?? 5_000
    this.#retryMax = opts.retryMaxDelayMs ?? 15 * 60_000
    this.#storeRetryDelays = opts.storeRetryDelaysMs ?? [1_000, 5_000, 30_000]
    this.#leaseMs = 2 * deps.timeoutMs + 10_000
    this.publisher = {
      publish: (type, teleconsultationId, data = {}) => {
        const event: OutgoingEvent = {
          id: randomUUID(),
          type,
          occurredAt: iso(this.#now()),
          teleconsultationId,
          data: { ...data }
        }
        this.#track(this.#store(event, 0))
      }
    }
    const interval = opts.intervalMs ?? 5_000
    this.#timer = interval > 0
      ? setInterval(() => { if (!this.#closed) this.tick().catch(err => deps.log.warn({ err }, 'event delivery failed')) }, interval)
      : undefined
    this.#timer?.unref()
  }

  /**
   * One pass (another follows if events were published meanwhile); concurrent calls share it. Resolves to the events
   * delivered.
   */
  async tick (): Promise<number> {
    this.#running ??= this.#passes().finally(() => { this.#running = undefined })
    return await this.#running
  }

  /** Resolves when no entry is being written or sent (tests). */
  async idle (): Promise<void> {
    const busy = (): boolean => this.#writes.size > 0 || this.#running !== undefined
    while (busy()) await Promise.allSettled([...this.#writes, this.#running])
  }

  /** Stops the timer and waits for the writes and the pass under way; undelivered entries stay in the outbox. */
  async close (): Promise<void> {
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes])
    this.#closed = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
    await this.#running?.catch(() => {})
    await this.#deps.sender.close()
  }

  #backoff (attempts: number): number {
    const base = Math.min(this.#retryBase * 2 ** Math.max(0, attempts - 1), this.#retryMax)
    return Math.round(base * (0.5 + Math.random()))
  }

  /** Sends one claimed entry; true when the receiver accepted it. */
  async #deliver (entry: OutboxEntry): Promise<boolean> {
    const { outbox, sender, observer, log, retryForMs } = this.#deps
    const { event } = entry
    const claimed = await outbox.update(entry.key, entry.version, {
      attempts: entry.attempts + 1,
      nextAttemptAt: iso(this.#now() + this.#leaseMs)
    })
    // Another replica claimed it (or delivered it) since it was listed.
    if (claimed === null) return false
    const outcome = await sender.send(event)
    const about = {
      eventId: event.id,
      type: event.type,
      teleconsultationId: event.teleconsultationId,
      attempts: claimed.attempts
    }
    if (outcome.ok) {
      observer?.eventDelivered(event.type)
      log.debug(about, 'event delivered')
      await outbox.remove(claimed.key)
      return true
    }
    const delay = this.#backoff(claimed.attempts)
    const refusal = { status: outcome.status ?? null, failure: outcome.failure ?? null }
    if (this.#now() + delay - Date.parse(event.occurredAt) > retryForMs) {
      await outbox.update(claimed.key, claimed.version, { status: 'failed' })
      observer?.eventFailed(event.type)
      log.error({ ...about, ...refusal }, 'event given up: EVENTS_RETRY_FOR_MS passed without the receiver accepting it')
      return false
    }
    await outbox.update(claimed.key, claimed.version, { nextAttemptAt: iso(this.#now() + delay) })
    log.warn({ ...about, ...refusal, nextAttemptInMs: delay }, 'event not delivered, will retry')
    return false
  }

  async #pass (): Promise<number> {
    const due = await this.#deps.outbox.listDue(iso(this.#now()), this.#batch)
    const results = await settleEach(due, async entry => await this.#deliver(entry), this.#concurrency)
    for (const result of results) {
      if (result.status === 'rejected') this.#deps.log.warn({ err: result.reason }, 'event delivery bookkeeping failed')
    }
    return results.filter(r => r.status === 'fulfilled' && r.value).length
  }

  async #passes (): Promise<number> {
    let delivered = 0
    for (;;) {
      this.#again = false
      delivered += await this.#pass()
      if (!this.#again || this.#closed) return delivered
    }
  }

  #kick (): void {
    this.#again = true
    if (!this.#closed) this.tick().catch(err => this.#deps.log.warn({ err }, 'event delivery failed'))
  }

  #track (write: Promise<void>): void {
    this.#writes.add(write)
    write.finally(() => this.#writes.delete(write)).catch(() => {})
  }

  /** Writes the entry, retrying a store failure a few times; then sends it at once. */
  async #store (event: OutgoingEvent, attempt: number): Promise<void> {
    const { outbox, log } = this.#deps
    try {
      await outbox.add(event)
    } catch (err) {
      const next = this.#storeRetryDelays[attempt]
      const about = { err, eventId: event.id, type: event.type, teleconsultationId: event.teleconsultationId }
      if (next === undefined || this.#closed) {
        log.error(about, 'event lost: the outbox could not store it')
        return
      }
      log.warn({ ...about, nextAttemptInMs: next }, 'event not stored in the outbox yet')
      const timer = setTimeout(() => { this.#timers.delete(timer); this.#track(this.#store(event, attempt + 1)) }, next)
      timer.unref()
      this.#timers.add(timer)
      return
    }
    this.#kick()
  }
}

export function createEventDelivery (deps: EventDeliveryDeps, opts: EventDeliveryOptions = {}): EventDelivery {
  return new EventDelivery(deps, opts)
}
