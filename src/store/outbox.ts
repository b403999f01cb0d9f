// The outbox of the events sent to EVENTS_WEBHOOK_URL: the port, and its in-memory implementation.
import type { OutgoingEvent } from '../events/types.js'

/** An event waiting for delivery. Delivered entries are removed; given-up ones stay as `failed`. */
export interface OutboxEntry {
  /** The store's key of the entry (the CRUD `_id`); not the event id. */
  key: string
  event: OutgoingEvent
  /** Deliveries tried so far. */
  attempts: number
  /** ISO date from which the entry may be sent; a claim moves it past the claim's lease. */
  nextAttemptAt: string
  status: 'pending' | 'failed'
  /** Incremented by every update; updates are conditional on it, so one replica wins a claim. */
  version: number
}

export type OutboxChanges = Partial<Pick<OutboxEntry, 'attempts' | 'nextAttemptAt' | 'status'>>

export interface EventOutboxStore {
  /** Stores a pending entry, due at once; an event id stored already is not an error. */
  add: (event: OutgoingEvent) => Promise<void>
  /** Pending entries due by `dueBy` (ISO date), the longest due first. */
  listDue: (dueBy: string, limit: number) => Promise<OutboxEntry[]>
  /** Applies `changes` only when the stored version is `expectedVersion`; null when the entry moved on or went. */
  update: (key: string, expectedVersion: number, changes: OutboxChanges) => Promise<OutboxEntry | null>
  /** Forgets a delivered entry (the CRUD store moves it to TRASH). */
  remove: (key: string) => Promise<void>
  /** Fails when the outbox cannot be used (readiness). */
  ping: () => Promise<void>
  close: () => Promise<void>
}

/** Lost on restart, like the memory teleconsultation store; shared by the apps given the same stores. */
export function createMemoryOutboxStore (): EventOutboxStore {
  const entries = new Map<string, OutboxEntry>()
  return {
    async add (event) {
      if (entries.has(event.id)) return
      entries.set(event.id, { key: event.id, event: structuredClone(event), attempts: 0, nextAttemptAt: event.occurredAt, status: 'pending', version: 1 })
    },
    async listDue (dueBy, limit) {
      const due = Date.parse(dueBy)
      return [...entries.values()]
        .filter(e => e.status === 'pending' && Date.parse(e.nextAttemptAt) <= due)
        .sort((a, b) => Date.parse(a.nextAttemptAt) - Date.parse(b.nextAttemptAt))
        .slice(0, limit)
        .map(e => structuredClone(e))
    },
    async update (key, expectedVersion, changes) {
      const current = entries.get(key)
      if (current === undefined || current.version !== expectedVersion) return null
      const next: OutboxEntry = { ...current, ...changes, version: current.version + 1 }
      entries.set(key, next)
      return structuredClone(next)
    },
    async remove (key) {
      entries.delete(key)
    },
    async ping () {},
    async close () {}
  }
}
