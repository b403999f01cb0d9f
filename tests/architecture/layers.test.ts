import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, posix, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import ts from 'typescript'

// The floors of src/ (docs/design.md, "Layout"): a module imports its own floor or lower ones,
// never a higher one. Only kaleyra/ and the emulator know Kaleyra's wire format.

const src = fileURLToPath(new URL('../../src/', import.meta.url))

/**
 * Lowest first. A module's floor is that of the longest entry its path starts with; a folder
 * entry ends with `/`. Tools (the emulator, the demo page, kaleyra:check) sit above the service's
 * infrastructure and below the composition root, which alone may load them.
 */
const FLOORS: ReadonlyArray<{ name: string, paths: string[] }> = [
  { name: 'lib', paths: ['lib/', 'kaleyra/model.ts'] },
  { name: 'foundations', paths: ['upstream/', 'config/', 'events/types.ts'] },
  { name: 'ports and clients', paths: ['kaleyra/', 'store/', 'events/'] },
  { name: 'identity', paths: ['identity/', 'users/'] },
  {
    name: 'domain',
    paths: ['teleconsultations/', 'credentials/', 'settings/', 'transcription/', 'recordings/', 'webhooks/']
  },
  { name: 'platform', paths: ['platform/'] },
  { name: 'tools', paths: ['emulator/', 'demo-page/', 'kaleyra-check/'] },
  { name: 'composition', paths: ['services.ts', 'app.ts', 'server.ts', 'demo.ts', 'healthcheck.ts'] }
]

const WIRE = 'kaleyra/wire.ts'
const WIRE_READERS = ['kaleyra/', 'emulator/']

/** The floor index of a module (a path relative to src/, with `/`), or undefined when none is declared. */
function floorOf (path: string): number | undefined {
  let best: { floor: number, length: number } | undefined
  FLOORS.forEach(({ paths }, floor) => {
    for (const entry of paths) {
      const matches = entry.endsWith('/') ? path.startsWith(entry) : path === entry
      if (matches && (best === undefined || entry.length > best.length)) best = { floor, length: entry.length }
    }
  })
  return best?.floor
}

function filesUnder (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return filesUnder(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** The relative specifiers a module imports: static imports, `export … from` and `import('…')`. */
function relativeImports (fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true)
  const found: string[] = []
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined &&
      ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length > 0 && ts.isStringLiteralLike(node.arguments[0])) {
      found.push(node.arguments[0].text)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found.filter(specifier => specifier.startsWith('.'))
}

/** Every import of `path` (relative to src/) that breaks the floors, as `from -> to (floor -> floor)`. */
function violations (path: string, text: string): string[] {
  const from = floorOf(path)
  return relativeImports(path, text).flatMap(specifier => {
    const target = posix.normalize(posix.join(posix.dirname(path), specifier)).replace(/\.js$/, '.ts')
    const to = floorOf(target)
    const found: string[] = []
    if (from === undefined || to === undefined) {
      found.push(`${path} -> ${target}: no floor declared for ${from === undefined ? path : target}`)
    } else if (to > from) {
      found.push(`${path} -> ${target} (${FLOORS[from].name} -> ${FLOORS[to].name})`)
    }
    if (target === WIRE && !WIRE_READERS.some(folder => path.startsWith(folder))) {
      found.push(`${path} -> ${target}: only ${WIRE_READERS.join(', ')} read the wire format; import kaleyra/model.ts`)
    }
    return found
  })
}

function modules (): string[] {
  return filesUnder(src).map(path => relative(src, path).split(sep).join('/')).sort()
}

t.test('the check catches an upward import, a wire import from the domain and an undeclared module', async t => {
  const sample = [
    "import { createTtlCache } from '../lib/ttl-cache.js'",
    "import type { KaleyraRole } from '../kaleyra/model.js'",
    "import { registerMetrics } from '../platform/metrics.js'",
    "export { paths } from '../kaleyra/wire.js'",
    "const app = await import('../app.js')",
    "import { thing } from '../nowhere/thing.js'",
    "import { Type } from '@sinclair/typebox'"
  ].join('\n')
  t.same(violations('store/memory.ts', sample), [
    'store/memory.ts -> platform/metrics.ts (ports and clients -> platform)',
    'store/memory.ts -> kaleyra/wire.ts: only kaleyra/, emulator/ read the wire format; import kaleyra/model.ts',
    'store/memory.ts -> app.ts (ports and clients -> composition)',
    'store/memory.ts -> nowhere/thing.ts: no floor declared for nowhere/thing.ts'
  ])
  t.same(violations('kaleyra/client.ts', "import { paths } from './wire.js'\nimport { KALEYRA_ROLES } from './model.js'"), [],
    'kaleyra/ reads its own wire format and its vocabulary')
  t.same(violations('kaleyra/model.ts', "import { paths } from './wire.js'"), [
    'kaleyra/model.ts -> kaleyra/wire.ts (lib -> ports and clients)'
  ], 'the vocabulary is below the wire format')
})

t.test('no module of src/ imports from a higher floor', async t => {
  const paths = modules()
  t.ok(paths.includes('lib/errors.ts') && paths.includes('kaleyra/model.ts') && paths.includes('app.ts'),
    `the modules are found (${paths.length})`)
  t.same(paths.filter(path => floorOf(path) === undefined), [], 'every module has a floor')
  const found = paths.flatMap(path => violations(path, readFileSync(join(src, path), 'utf8')))
  t.same(found, [], 'imports point down or sideways (docs/design.md, "Layout")')
})

t.test('every declared floor entry names something in src/', async t => {
  for (const { paths } of FLOORS) {
    for (const entry of paths) {
      const dir = entry.endsWith('/') ? join(src, entry) : dirname(join(src, entry))
      const listed = readdirSync(dir)
      t.ok(entry.endsWith('/') || listed.includes(posix.basename(entry)), `${entry} exists`)
    }
  }
})
