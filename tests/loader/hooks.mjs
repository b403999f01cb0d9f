// Module hooks for the test processes: `./x.js` imported from a .ts file resolves to `./x.ts`
// when that exists (the NodeNext convention the sources follow), and .ts files are transpiled by
// esbuild, one file at a time, without type-checking (`npm run typecheck` does that). The output
// carries an inline source map, so stack traces and V8 coverage point at the .ts lines.
// Two flavours of the same hooks: asynchronous ones for `module.register` (Node 20, run on the
// loader thread) and synchronous ones for `module.registerHooks` (in-thread, Node 24.13+).
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { transform, transformSync } from 'esbuild'

const isTypeScript = url => url.startsWith('file:') && url.endsWith('.ts')

/** The `.ts` twin of a relative `.js` specifier written in a .ts file, if that is the case. */
function typeScriptTwin (specifier, { parentURL }) {
  const relative = specifier.startsWith('./') || specifier.startsWith('../')
  if (!relative || !specifier.endsWith('.js')) return undefined
  if (parentURL === undefined || !isTypeScript(parentURL)) return undefined
  return `${specifier.slice(0, -3)}.ts`
}

// TypeBox ships the same code as ~200 ES modules and as CommonJS. On Node 20 every ES module a
// test process imports makes a round trip to the loader thread (~0.3 ms each, 800 for TypeBox
// alone), while `require`s inside a CommonJS package never leave the main thread: the test
// processes take the CommonJS build. TypeBox marks its schemas with `Symbol.for` keys, so schemas
// from either build are the same to Fastify, Ajv and @fastify/type-provider-typebox.
const viaRequire = specifier => specifier === '@sinclair/typebox' || specifier.startsWith('@sinclair/typebox/')
const requireConditions = context => ({ ...context, conditions: ['node', 'require', 'default'] })

const notFound = error => error?.code === 'ERR_MODULE_NOT_FOUND'

const options = path => ({
  loader: 'ts',
  format: 'esm',
  target: `node${process.versions.node}`,
  sourcefile: path,
  sourcemap: 'inline'
})

const module = ({ code }) => ({ format: 'module', source: code, shortCircuit: true })

export async function resolve (specifier, context, nextResolve) {
  if (viaRequire(specifier)) return nextResolve(specifier, requireConditions(context))
  const twin = typeScriptTwin(specifier, context)
  if (twin !== undefined) {
    try {
      return await nextResolve(twin, context)
    } catch (error) {
      if (!notFound(error)) throw error
    }
  }
  return nextResolve(specifier, context)
}

export async function load (url, context, nextLoad) {
  if (!isTypeScript(url)) return nextLoad(url, context)
  const path = fileURLToPath(url)
  return module(await transform(await readFile(path, 'utf8'), options(path)))
}

export function resolveSync (specifier, context, nextResolve) {
  if (viaRequire(specifier)) return nextResolve(specifier, requireConditions(context))
  const twin = typeScriptTwin(specifier, context)
  if (twin !== undefined) {
    try {
      return nextResolve(twin, context)
    } catch (error) {
      if (!notFound(error)) throw error
    }
  }
  return nextResolve(specifier, context)
}

export function loadSync (url, context, nextLoad) {
  if (!isTypeScript(url)) return nextLoad(url, context)
  const path = fileURLToPath(url)
  return module(transformSync(readFileSync(path, 'utf8'), options(path)))
}
