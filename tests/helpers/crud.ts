import { startFakeCrudService, type FakeCrudService } from '../fakes/crud-service.js'

/** The teleconsultations collection as docs/crud-collections.md tells to define it. */
export const TELECONSULTATION_FIELDS = [
  'bandyerRoomId', 'participantsNumber', 'participants', 'teleconsultationState', 'startDate', 'endDate',
  'version', 'pendingRoomDeletions', 'lastWriteId', 'roomClosedAt', 'readySessions'
]

/** What a configuration without ROOM_CLOSE_AFTER_END_MS and KALEYRA_WEBHOOKS writes. */
export const DEFAULT_WRITTEN_FIELDS = TELECONSULTATION_FIELDS.filter(f => f !== 'roomClosedAt' && f !== 'readySessions')

/** The user-id map collection as the original service defined it. */
export const USER_MAP_FIELDS = ['receivedUserId', 'bandyerId', 'fullName', 'groups']

/** The event outbox collection (EVENTS_WEBHOOK_URL) as docs/crud-collections.md tells to define it. */
export const EVENT_OUTBOX_FIELDS = ['eventId', 'type', 'occurredAt', 'teleconsultationId', 'data', 'attempts', 'nextAttemptAt', 'status', 'version']
/** The idempotency-key collection as docs/crud-collections.md tells to define it (IDEMPOTENCY_KEYS=true). */
export const IDEMPOTENCY_FIELDS = ['key', 'fingerprint', 'reservationId', 'state', 'expiresAt', 'statusCode', 'response']

/** A fake CRUD Service with the collections under their default paths, closed at teardown. */
export async function startCrud (
  t: { teardown: (fn: () => unknown) => void },
  opts: { uniqueUserIds?: boolean } = {}
): Promise<FakeCrudService> {
  const crud = await startFakeCrudService({
    collections: {
      teleconsultations: { fields: TELECONSULTATION_FIELDS },
      teleconsultations_users: { fields: USER_MAP_FIELDS, unique: opts.uniqueUserIds === false ? [] : ['receivedUserId'] },
      teleconsultation_events: { fields: EVENT_OUTBOX_FIELDS, unique: ['eventId'] },
      teleconsultations_idempotency: { fields: IDEMPOTENCY_FIELDS, unique: ['key'] }
    }
  })
  t.teardown(() => crud.close())
  return crud
}
