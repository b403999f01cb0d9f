import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import ts from 'typescript'

// HTTP words stay at the edge: routes and schemas word the answers; the domain (services, rules,
// identity, stores) never names a route. A refusal's `Failed <label>:` comes from the route's config.

const src = fileURLToPath(new URL('../../src/', import.meta.url))

/** The domain modules: everything under these folders, plus the services of the route families. */
const DOMAIN_FOLDERS = ['teleconsultations', 'identity', 'users', 'store']
const EDGE_FILES = new Set(['teleconsultations/routes.ts', 'teleconsultations/schemas.ts'])
const DOMAIN_FILES = ['credentials/service.ts', 'settings/service.ts', 'transcription/service.ts', 'recordings/service.ts']

const METHOD_AND_PATH = /\b(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)\s+\//

function filesUnder (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return filesUnder(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

function domainModules (): string[] {
  const inFolders = DOMAIN_FOLDERS.flatMap(folder => filesUnder(join(src, folder))).map(path => relative(src, path))
  return [...inFolders.filter(path => !EDGE_FILES.has(path)), ...DOMAIN_FILES].sort()
}

/** String literals and template texts (comments are not strings) that name an HTTP method and a path. */
function httpWords (fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true)
  const found: string[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) {
      if (METHOD_AND_PATH.test(node.text)) {
        const { line } = source.getLineAndCharacterOfPosition(node.getStart())
        found.push(`${fileName}:${line + 1}: ${JSON.stringify(node.text)}`)
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

t.test('the check finds a method and a path in strings and templates, not in comments', async t => {
  // Source text, not code: the `${...}` below are template literals of the sample.
  /* eslint-disable no-template-curly-in-string */
  const sample = [
    '// GET /teleconsultation/:id is fine in a comment',
    'const a = \'PATCH /teleconsultation\'',
    'const b = `POST /teleconsultation/${id}/participants/data`',
    'const c = "DELETE /v2/rooms/" + id',
    'const d = \'GET\'; const e = \'/users/\'',
    'const f = `operation ${label}.insert`'
  ].join('\n')
  /* eslint-enable no-template-curly-in-string */
  t.same(httpWords('sample.ts', sample).map(hit => hit.split(': ')[0]), ['sample.ts:2', 'sample.ts:3', 'sample.ts:4'])
})

t.test('no domain module names an HTTP route in a string', async t => {
  const modules = domainModules()
  t.ok(modules.includes('teleconsultations/service.ts') && modules.includes('identity/types.ts') && modules.includes('store/crud/client.ts'),
    `the domain modules are found (${modules.length})`)
  t.notOk(modules.includes('teleconsultations/routes.ts'), 'routes are the edge')
  const hits = modules.flatMap(path => httpWords(path, readFileSync(join(src, path), 'utf8')))
  t.same(hits, [], 'HTTP methods and paths are worded by the routes (config.refusal), not by the domain')
})
