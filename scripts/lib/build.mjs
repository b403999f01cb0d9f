// Compiles src/ to dist/ when dist/server.js is missing or older than any source file.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

export const root = new URL('../..', import.meta.url).pathname

function newest (dir) {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

/** `out`: where progress and compiler messages go (stdout by default). */
export function buildIfStale ({ out = process.stdout } = {}) {
  const entry = join(root, 'dist', 'server.js')
  if (!existsSync(entry) || newest(join(root, 'src')) > statSync(entry).mtimeMs) {
    out.write('Building…\n')
    // The compiler writes to stdout: with `out` on stderr, its messages go there too (fd 2).
    const stdio = out === process.stderr ? ['ignore', 2, 2] : 'inherit'
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio })
    // What `npm run build` copies too: the demo page's static files.
    cpSync(join(root, 'src', 'demo-page', 'public'), join(root, 'dist', 'demo-page', 'public'), { recursive: true })
  }
  return entry
}
