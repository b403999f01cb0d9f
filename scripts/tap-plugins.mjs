// Rebuilds tap's Test class when it was built with other plugins than .taprc lists (always the
// case right after `npm ci`). tap would rebuild it itself, but the run that rebuilds still starts
// its test processes with the loaders of the old build (@tapjs/typescript's ts-node, @tapjs/mock),
// which made the first `npm test` on a clean clone several times slower than the next ones.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const tap = new URL('../node_modules/.bin/tap', import.meta.url).pathname
const built = createRequire(import.meta.url).resolve('@tapjs/test/package.json')
  .replace(/package\.json$/, 'test-built/dist/esm/index.js')

const wanted = execFileSync(tap, ['plugin', 'list'], { encoding: 'utf8' }).trim()
const signature = /export const signature = `([^`]*)`/.exec(readFileSync(built, 'utf8'))?.[1].trim()

if (signature !== wanted) {
  console.log('Rebuilding tap for the plugins in .taprc (once after an install)')
  execFileSync(tap, ['build'], { stdio: 'inherit' })
}
