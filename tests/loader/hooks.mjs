// Module hooks, run by Node on its loader thread: `./x.js` imported from a .ts file resolves to
// `./x.ts` when that exists (the NodeNext convention the sources follow), and .ts files are
// transpiled by esbuild, one file at a time, without type-checking (`npm run typecheck` does that).
// The output keeps the source's line layout and carries an inline source map, so stack traces
// and V8 coverage point at the .ts lines.
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { transform } from 'esbuild'

const target = `node${process.versions.node}`

const isTypeScript = url => url.startsWith('file:') && url.endsWith('.ts')

export async function resolve (specifier, context, nextResolve) {
  const relative = specifier.startsWith('./') || specifier.startsWith('../')
  if (relative && specifier.endsWith('.js') && context.parentURL !== undefined && isTypeScript(context.parentURL)) {
    try {
      return await nextResolve(`${specifier.slice(0, -3)}.ts`, context)
    } catch (error) {
      if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error
    }
  }
  return nextResolve(specifier, context)
}

export async function load (url, context, nextLoad) {
  if (!isTypeScript(url)) return nextLoad(url, context)
  const path = fileURLToPath(url)
  const { code } = await transform(await readFile(path, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target,
    sourcefile: path,
    sourcemap: 'inline'
  })
  return { format: 'module', source: code, shortCircuit: true }
}
