/** The record changed since it was read (another request or replica won the race). */
export class StoreConflictError extends Error {
  constructor (readonly id: string) {
    super(`record ${id} was modified concurrently`)
    this.name = 'StoreConflictError'
  }
}

export class StoreNotFoundError extends Error {
  constructor (readonly id: string) {
    super(`record ${id} not found`)
    this.name = 'StoreNotFoundError'
  }
}

/** A unique key is already taken (user-id map). */
export class StoreDuplicateError extends Error {
  constructor (readonly key: string) {
    super('duplicate key')
    this.name = 'StoreDuplicateError'
  }
}
