import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Agent, setGlobalDispatcher } from 'undici'

// Why shards: tap starts one process per test file, and each process spends seconds loading
// tap and the TypeScript loader and compiling the service again. Loading every test module into
// a few processes keeps `npm test` (run twice in CI, on Node 20 and 24) in a fraction of the
// time. Each module still stands alone: `npx tap tests/<area>/<name>.test.ts` runs just that one.

const testsRoot = fileURLToPath(new URL('..', import.meta.url))
export const SHARDS = 4

function discover (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'fixtures' || entry.name === 'shards' ? [] : discover(path)
    return entry.name.endsWith('.test.ts') ? [path] : []
  })
}

/**
 * The test modules of shard `index` (0-based). Modules are dealt largest first to the lightest
 * shard (size is a fair proxy for run time here), so the shards end at about the same time.
 */
export function modulesOf (index: number): string[] {
  const load = new Array<number>(SHARDS).fill(0)
  const owned: string[][] = Array.from({ length: SHARDS }, () => [])
  const files = discover(testsRoot).map(path => ({ path, size: statSync(path).size }))
  files.sort((a, b) => b.size - a.size || a.path.localeCompare(b.path))
  for (const file of files) {
    const lightest = load.indexOf(Math.min(...load))
    load[lightest] += file.size
    owned[lightest].push(relative(testsRoot, file.path))
  }
  return owned[index]
}

export async function runShard (index: number): Promise<void> {
  // Many modules start servers on ephemeral ports in one process, and ports get reused: a pooled
  // keep-alive connection of the shared global dispatcher could then point at a server that is
  // gone. Tests that use the global dispatcher get a fresh connection per request instead.
  setGlobalDispatcher(new Agent({ pipelining: 0 }))
  for (const path of modulesOf(index)) await import(pathToFileURL(join(testsRoot, path)).href)
}
