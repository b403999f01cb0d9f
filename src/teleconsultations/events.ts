/**
 * What the teleconsultation lifecycle reports to whoever watches it (the metrics in production).
 * The domain only calls these; how they are counted is not its business.
 */
export interface TeleconsultationEvents {
  /** A teleconsultation record was stored. */
  created: () => void
  /** A Kaleyra room was created. */
  roomCreated: () => void
  /** A teleconsultation's room was swapped for a new one. */
  roomReplaced: () => void
  /** Kaleyra confirmed the deletion of a room (with its teleconsultation, after a replacement, or a clean-up). */
  roomDeleted: () => void
  /** A new room was given up because the change that created it could not be stored. */
  compensation: () => void
}
