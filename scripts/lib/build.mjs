// The build (`npm run build` runs this file): src/ compiled to dist/, TypeBox bundled into
// dist/lib/typebox.js (see src/lib/typebox.ts), the demo page's static files copied. Scripts call
// buildIfStale to build only when dist/server.js is missing or older than a source file.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

export const root = new URL('../..', import.meta.url).pathname

function newest (dir) {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

/** `stdio` of the compiler (it writes its messages to stdout). */
export function build ({ stdio = 'inherit' } = {}) {
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio })
  // One module in place of TypeBox's ~220 (esbuild is a devDependency, as the compiler is).
  const typebox = join(root, 'dist', 'lib', 'typebox.js')
  const { buildSync } = createRequire(import.meta.url)('esbuild')
  buildSync({ entryPoints: [typebox], outfile: typebox, allowOverwrite: true, bundle: true, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning' })
  rmSync(`${typebox}.map`, { force: true })
  cpSync(join(root, 'src', 'demo-page', 'public'), join(root, 'dist', 'demo-page', 'public'), { recursive: true })
}

/** `out`: where progress and compiler messages go (stdout by default). */
export function buildIfStale ({ out = process.stdout } = {}) {
  const entry = join(root, 'dist', 'server.js')
  if (!existsSync(entry) || newest(join(root, 'src')) > statSync(entry).mtimeMs) {
    out.write('Building…\n')
    // The compiler writes to stdout: with `out` on stderr, its messages go there too (fd 2).
    build({ stdio: out === process.stderr ? ['ignore', 2, 2] : 'inherit' })
  }
  return entry
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) build()
