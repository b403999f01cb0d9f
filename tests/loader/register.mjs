// Loads the TypeScript sources and tests through esbuild in every test process (`.taprc` passes
// `--import` of this file). Why not tap's ts-node or tsx: see the README, "Choices worth knowing".
import nodeModule from 'node:module'

// In-thread hooks where they are stable (the same versions @tapjs/processinfo uses them on):
// no loader thread, and no message between threads for every module.
const [major, minor] = process.versions.node.split('.').map(Number)
const stable = major > 25 || (major === 25 && minor >= 1) || (major === 24 && minor >= 13)
const inThread = stable && typeof nodeModule.registerHooks === 'function'

if (inThread) {
  const { resolveSync, loadSync } = await import('./hooks.mjs')
  nodeModule.registerHooks({ resolve: resolveSync, load: loadSync })
} else {
  nodeModule.register('./hooks.mjs', import.meta.url)
}
