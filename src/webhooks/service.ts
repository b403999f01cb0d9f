import createError from '@fastify/error'
import type { FastifyBaseLogger } from 'fastify'
import type { AppConfig } from '../config/index.js'
import type { EventPublisher, IntegrationObserver } from '../events/types.js'
import { parseKaleyraWebhook, type KaleyraWebhook } from '../kaleyra/webhooks.js'
import { checkSignature } from '../lib/signature.js'
import { StoreConflictError, StoreNotFoundError } from '../store/errors.js'
import type { ReadySession, TeleconsultationData, TeleconsultationRecord, TeleconsultationStore } from '../store/types.js'
import type { Log } from '../upstream/request-context.js'

export const WebhookRefused = createError<[string]>('TCS_WEBHOOK_REFUSED', '%s', 401)
export const BadWebhook = createError<[string]>('TCS_BAD_WEBHOOK', '%s', 400)

const CONFLICT_RETRIES = 5

export interface KaleyraWebhookServiceDeps {
  config: AppConfig
  store: TeleconsultationStore
  log: FastifyBaseLogger
  publisher: EventPublisher
  observer?: IntegrationObserver
  now?: () => number
  /** Delays between attempts to apply a delivery the store could not take (default 1 s, 5 s, 30 s). */
  retryDelaysMs?: number[]
}

function metricName (event: string): string {
  return ['on_room_deleted', 'on_recording_available', 'on_transcription_available'].includes(event) ? event : 'other'
}

/** The change a webhook makes to the record, or null when it was applied already (or does not apply). */
function changeFor (
  hook: Exclude<KaleyraWebhook, { kind: 'other' }>,
  record: TeleconsultationRecord
): Partial<TeleconsultationData> | null {
  if (hook.kind === 'room_deleted') {
    // A room we closed after its end stays the record's (its sessions and recordings remain listed).
    if (record.roomClosedAt != null) return null
    return {
      bandyerRoomId: null,
      teleconsultationState: 'WAITING_FOR_PARTICIPANTS',
      participants: record.participants.map(p => ({ ...p, accessLinkURL: null })),
      readySessions: []
    }
  }
  const flag = hook.kind === 'recording_available' ? 'recording' : 'transcription'
  const sessions: ReadySession[] = record.readySessions ?? []
  const known = sessions.find(s => s.sessionId === hook.sessionId)
  if (known?.[flag] === true) return null
  const readySessions = known === undefined
    ? [...sessions, { sessionId: hook.sessionId, [flag]: true }]
    : sessions.map(s => s.sessionId === hook.sessionId ? { ...s, [flag]: true } : s)
  return { readySessions }
}

/**
 * Kaleyra's webhooks (KALEYRA_WEBHOOKS): verified on the raw bytes, answered at once, applied
 * after. Each change is a conditional write that is a no-op once applied, so a replay, or the
 * same delivery reaching two replicas, changes the record once and publishes one event.
 */
export class KaleyraWebhookService {
  readonly #deps: KaleyraWebhookServiceDeps
  readonly #secret: string
  readonly #now: () => number
  readonly #retryDelays: number[]
  readonly #running = new Set<Promise<void>>()
  readonly #timers = new Set<NodeJS.Timeout>()
  #closed = false

  constructor (deps: KaleyraWebhookServiceDeps) {
    const { env } = deps.config
    this.#deps = deps
    this.#secret = env.KALEYRA_WEBHOOK_SECRET ?? env.BANDYER_API_SECRET_KEY ?? ''
    this.#now = deps.now ?? Date.now
    this.#retryDelays = deps.retryDelaysMs ?? [1_000, 5_000, 30_000]
  }

  /** Verifies and reads a delivery (401/400 change nothing); the work is started, not awaited. */
  receive (raw: Buffer, signature: string | undefined, log: Log): void {
    const { env } = this.#deps.config
    const nowSeconds = Math.floor(this.#now() / 1000)
    const check = checkSignature(signature, raw, this.#secret, nowSeconds, env.KALEYRA_WEBHOOK_TOLERANCE_S)
    if (check !== 'valid') {
      this.#deps.observer?.webhook('other', 'rejected')
      log.warn({ signature: check }, 'Kaleyra webhook refused')
      throw new WebhookRefused(check === 'stale' ? 'Webhook signature expired' : 'Invalid webhook signature')
    }
    let body: unknown
    try {
      body = JSON.parse(raw.toString('utf8'))
    } catch {
      body = undefined
    }
    const hook = parseKaleyraWebhook(body)
    if (hook === null) {
      this.#deps.observer?.webhook('other', 'rejected')
      throw new BadWebhook('Invalid webhook payload')
    }
    this.#run(hook, 0)
  }

  /** Resolves when no delivery is being applied (tests, shutdown). */
  async idle (): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running])
  }

  async close (): Promise<void> {
    this.#closed = true
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    await Promise.allSettled([...this.#running])
  }

  async #apply (hook: KaleyraWebhook, log: Log): Promise<'processed' | 'duplicate' | 'ignored'> {
    const { store, publisher } = this.#deps
    if (hook.kind === 'other') {
      log.debug({ event: hook.event }, 'Kaleyra webhook ignored')
      return 'ignored'
    }
    for (let attempt = 1; ; attempt++) {
      const record = await store.findByRoomId(hook.roomId)
      if (record === null) {
        log.debug({ event: hook.event, roomId: hook.roomId }, 'Kaleyra webhook for a room no teleconsultation uses')
        return 'ignored'
      }
      const change = changeFor(hook, record)
      if (change === null) return 'duplicate'
      try {
        await store.update(record.id, record.version, change)
      } catch (err) {
        if (err instanceof StoreNotFoundError) return 'ignored'
        if (!(err instanceof StoreConflictError) || attempt >= CONFLICT_RETRIES) throw err
        continue
      }
      log.info({ event: hook.event, roomId: hook.roomId, teleconsultationId: record.id }, 'Kaleyra webhook applied')
      // Its links are withdrawn: what a receiver of events sees as a change.
      if (hook.kind === 'room_deleted') publisher.publish('teleconsultation.updated', record.id)
      if (hook.kind === 'recording_available') publisher.publish('recording.available', record.id, { sessionId: hook.sessionId })
      if (hook.kind === 'transcription_available') {
        publisher.publish('transcription.available', record.id, { sessionId: hook.sessionId })
      }
      return 'processed'
    }
  }

  /** Applies a delivery; a store failure is retried a few times (Kaleyra already has its 200). */
  #run (hook: KaleyraWebhook, attempt: number): void {
    const { log, observer } = this.#deps
    const task = this.#apply(hook, log)
      .then(outcome => observer?.webhook(metricName(hook.event), outcome))
      .catch(err => {
        const next = this.#retryDelays[attempt]
        log.warn({ err, event: hook.event, nextAttemptInMs: next ?? null }, 'Kaleyra webhook could not be applied')
        if (next === undefined || this.#closed) {
          observer?.webhook(metricName(hook.event), 'failed')
          return
        }
        const timer = setTimeout(() => { this.#timers.delete(timer); this.#run(hook, attempt + 1) }, next)
        timer.unref()
        this.#timers.add(timer)
      })
    this.#running.add(task)
    task.finally(() => this.#running.delete(task)).catch(() => {})
  }
}

export function createKaleyraWebhookService (deps: KaleyraWebhookServiceDeps): KaleyraWebhookService {
  return new KaleyraWebhookService(deps)
}
