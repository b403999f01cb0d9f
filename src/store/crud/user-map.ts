import { UpstreamError } from '../../upstream/errors.js'
import { StoreDuplicateError } from '../errors.js'
import type { StoreContext, UserMapRecord, UserMapStore } from '../types.js'
import type { CrudCollection } from './client.js'
import { userMapDocument, userMapFromDocument } from './documents.js'

/**
 * The external-id → Kaleyra-id map in a CRUD Service collection. Race-safe across replicas:
 * new Kaleyra ids are derived from the external id, so two replicas mapping the same new user
 * write the same row; a unique index on `receivedUserId` makes the second insert a 409, which
 * the caller resolves by reading the winner. Without the index the rows are identical and the
 * oldest one is read.
 */
export function createCrudUserMapStore (opts: {
  collection: CrudCollection
  onClose?: () => Promise<void>
}): UserMapStore {
  const { collection } = opts

  async function find (receivedUserId: string, ctx?: StoreContext): Promise<UserMapRecord | null> {
    const docs = await collection.list({ filter: { receivedUserId }, limit: 1, sort: '_id' }, ctx)
    return docs.length === 0 ? null : userMapFromDocument(docs[0])
  }

  return {
    find,

    async insert (record, ctx) {
      try {
        const inserted = await collection.insert(userMapDocument(record), ctx)
        if (inserted === 'duplicate') throw new StoreDuplicateError(record.receivedUserId)
      } catch (err) {
        if (!(err instanceof UpstreamError && err.ambiguous)) throw err
        // The answer was lost: the row may be there.
        const found = await find(record.receivedUserId, ctx).catch(() => null)
        if (found === null) throw err
        if (found.bandyerId !== record.bandyerId) throw new StoreDuplicateError(record.receivedUserId)
      }
      return structuredClone(record)
    },

    async ping () {
      await collection.ping()
    },

    async close () {
      await opts.onClose?.()
    }
  }
}
