import { EVENT_TYPES, type EventData, type EventType } from '../../events/types.js'
import { UpstreamError } from '../../upstream/errors.js'
import type { EventOutboxStore, OutboxEntry } from '../outbox.js'
import type { CrudCollection, CrudDocument } from './client.js'
import { isoDate } from './documents.js'

function isEventType (value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value)
}

function eventData (value: unknown): EventData {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {}
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'))
}

/** An outbox document (docs/crud-collections.md); null for one the service did not write. */
function entryFromDocument (doc: CrudDocument): OutboxEntry | null {
  const occurredAt = isoDate(doc.occurredAt)
  const nextAttemptAt = isoDate(doc.nextAttemptAt)
  if (typeof doc.eventId !== 'string' || !isEventType(doc.type) || typeof doc.teleconsultationId !== 'string' ||
    occurredAt === undefined || nextAttemptAt === undefined) return null
  return {
    key: doc._id,
    event: {
      id: doc.eventId,
      type: doc.type,
      occurredAt,
      teleconsultationId: doc.teleconsultationId,
      data: eventData(doc.data)
    },
    attempts: typeof doc.attempts === 'number' ? doc.attempts : 0,
    nextAttemptAt,
    status: doc.status === 'failed' ? 'failed' : 'pending',
    version: typeof doc.version === 'number' ? doc.version : 0
  }
}

/**
 * The outbox in a CRUD Service collection, shared by the replicas: a claim is a change
 * conditional on `version`, so one replica sends an entry at a time. Background work: no caller.
 */
export function createCrudOutboxStore (opts: {
  collection: CrudCollection
  onClose?: () => Promise<void>
}): EventOutboxStore {
  const { collection } = opts
  return {
    async add (event) {
      const doc = { eventId: event.id, type: event.type, occurredAt: event.occurredAt, teleconsultationId: event.teleconsultationId, data: event.data, attempts: 0, nextAttemptAt: event.occurredAt, status: 'pending', version: 1 }
      try {
        // 'duplicate': the unique index on eventId says an earlier attempt landed.
        await collection.insert(doc)
      } catch (err) {
        if (!(err instanceof UpstreamError && err.ambiguous)) throw err
        const [found] = await collection.list({ filter: { eventId: event.id }, limit: 1 }).catch(() => [])
        if (found === undefined) throw err
      }
    },

    async listDue (dueBy, limit) {
      const docs = await collection.list({ filter: { status: 'pending', nextAttemptAt: { $lte: dueBy } }, limit, sort: 'nextAttemptAt' })
      return docs.map(entryFromDocument).filter((e): e is OutboxEntry => e !== null)
    },

    async update (key, expectedVersion, changes) {
      const update = { $set: { ...changes, version: expectedVersion + 1 } }
      const { doc } = await collection.patchById(key, update, { version: expectedVersion }, undefined, true)
      return doc === null ? null : entryFromDocument(doc)
    },

    async remove (key) {
      await collection.setState(key, 'TRASH')
    },

    async ping () {
      await collection.ping()
    },

    async close () {
      await opts.onClose?.()
    }
  }
}
