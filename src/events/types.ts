/** The events sent to EVENTS_WEBHOOK_URL (docs/events.md). */
export const EVENT_TYPES = [
  'teleconsultation.created', 'teleconsultation.updated', 'teleconsultation.deleted', 'teleconsultation.ended',
  'recording.available', 'transcription.available'
] as const

export type EventType = typeof EVENT_TYPES[number]

/** Ids only: never names, descriptions or links. */
export type EventData = Record<string, string>

/** What a receiver gets, as JSON; `id` is the same on every delivery of one event, so receivers can deduplicate. */
export interface OutgoingEvent {
  id: string
  type: EventType
  /** ISO date of the change. */
  occurredAt: string
  teleconsultationId: string
  data: EventData
}

/** Where the domain hands its events; never throws and never waits for delivery. */
export interface EventPublisher {
  publish: (type: EventType, teleconsultationId: string, data?: EventData) => void
}

export const NO_EVENTS: EventPublisher = { publish () {} }

/** What the webhook receiver, the room closer and the event delivery report (the metrics in production). */
export interface IntegrationObserver {
  /** A Kaleyra webhook: its event name (`other` for unknown ones) and what became of it. */
  webhook: (event: string, outcome: 'processed' | 'duplicate' | 'ignored' | 'rejected' | 'failed') => void
  /** A room deleted because its teleconsultation's end passed ROOM_CLOSE_AFTER_END_MS ago. */
  roomClosed: () => void
  /** An event the receiver at EVENTS_WEBHOOK_URL accepted (2xx). */
  eventDelivered: (type: EventType) => void
  /** An event given up after EVENTS_RETRY_FOR_MS. */
  eventFailed: (type: EventType) => void
}
