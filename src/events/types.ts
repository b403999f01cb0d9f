/** The events the domain publishes (their delivery to the caller's systems, issue 16 point 4, is not built yet). */
export const EVENT_TYPES = [
  'teleconsultation.created', 'teleconsultation.updated', 'teleconsultation.deleted', 'teleconsultation.ended',
  'recording.available', 'transcription.available'
] as const

export type EventType = typeof EVENT_TYPES[number]

/** Ids only: never names, descriptions or links. */
export type EventData = Record<string, string>

/** Where the domain hands its events; never throws and never waits for delivery. */
export interface EventPublisher {
  publish: (type: EventType, teleconsultationId: string, data?: EventData) => void
}

export const NO_EVENTS: EventPublisher = { publish () {} }

/** What the webhook receiver and the room closer report (the metrics in production). */
export interface IntegrationObserver {
  /** A Kaleyra webhook: its event name (`other` for unknown ones) and what became of it. */
  webhook: (event: string, outcome: 'processed' | 'duplicate' | 'ignored' | 'rejected' | 'failed') => void
  /** A room deleted because its teleconsultation's end passed ROOM_CLOSE_AFTER_END_MS ago. */
  roomClosed: () => void
}
