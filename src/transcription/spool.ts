// Holding a document whose size is known only at its end (a transcription sent without a
// content-length), so that it can be refused with 413 before anything is answered. Memory is
// shared by every such request within one budget; beyond it the document goes to a temporary
// file, removed as soon as it is open for reading (and in any case when reading fails).
import { randomUUID } from 'node:crypto'
import { open, unlink, type FileHandle } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'

export interface SpoolOptions {
  /** Bytes held in memory across all requests at once. */
  memoryBudgetBytes: number
  /** Where documents beyond the budget are written (default: the system's temporary directory). */
  directory?: string
}

export interface Spooled {
  length: number
  /** The document, from memory or from its temporary file; the caller must consume or destroy it. */
  body: Readable
}

/** Reading the source failed: the caller turns it into its own error. */
export class SourceError extends Error {
  constructor (readonly cause: unknown) {
    super('the source failed')
  }
}

/** The document could not be written to a temporary file (no space, read-only file system). */
export class SpoolUnavailable extends Error {
  constructor (readonly cause: unknown) {
    super('no room to hold the document')
  }
}

export type Spool = ReturnType<typeof createSpool>

export function createSpool (opts: SpoolOptions) {
  const directory = opts.directory ?? tmpdir()
  let inMemory = 0

  /**
   * Reads `source` whole. `check(size)` runs on every chunk and may throw (a size cap); the source
   * is destroyed on any failure. Throws SourceError, SpoolUnavailable or what `check` threw.
   */
  async function hold (source: Readable, check: (size: number) => void): Promise<Spooled> {
    const chunks: Buffer[] = []
    let held = 0
    let size = 0
    let file: { path: string, handle: FileHandle } | null = null
    const release = (): void => { inMemory -= held; held = 0; chunks.length = 0 }
    const discard = async (): Promise<void> => {
      if (file === null) return
      await file.handle.close().catch(() => {})
      await unlink(file.path).catch(() => {})
    }

    try {
      const iterator = source[Symbol.asyncIterator]()
      for (;;) {
        let next: IteratorResult<Buffer>
        try {
          next = await iterator.next()
        } catch (err) {
          throw new SourceError(err)
        }
        if (next.done === true) break
        const chunk = next.value
        size += chunk.length
        check(size)
        if (file === null && inMemory + chunk.length <= opts.memoryBudgetBytes) {
          chunks.push(chunk)
          held += chunk.length
          inMemory += chunk.length
          continue
        }
        if (file === null) {
          const path = join(directory, `tcs-spool-${randomUUID()}`)
          try {
            file = { path, handle: await open(path, 'wx', 0o600) }
          } catch (err) {
            throw new SpoolUnavailable(err)
          }
          try {
            for (const held of chunks) await file.handle.write(held)
          } catch (err) {
            throw new SpoolUnavailable(err)
          }
          release()
        }
        try {
          await file.handle.write(chunk)
        } catch (err) {
          throw new SpoolUnavailable(err)
        }
      }
    } catch (err) {
      source.destroy()
      release()
      await discard()
      throw err
    }

    if (file === null) {
      const parts = chunks.slice()
      chunks.length = 0
      const body = Readable.from(parts, { objectMode: false })
      // The budget is given back once the answer is sent, or abandoned.
      body.once('close', () => { inMemory -= held; held = 0 })
      return { length: size, body }
    }
    const written = file
    try {
      await written.handle.close()
      const reading = await open(written.path, 'r')
      // Removed at once: the open handle keeps the bytes readable until the answer is done.
      await unlink(written.path)
      return { length: size, body: reading.createReadStream({ autoClose: true }) }
    } catch (err) {
      await unlink(written.path).catch(() => {})
      throw new SpoolUnavailable(err)
    }
  }

  return {
    hold,
    /** Bytes held in memory right now (metrics and tests). */
    inMemory: (): number => inMemory
  }
}
