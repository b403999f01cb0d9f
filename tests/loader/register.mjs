// Loads the TypeScript sources and tests through esbuild in every test process (`.taprc` passes
// `--import` of this file). Why not tap's ts-node or tsx: see the README, "Choices worth knowing".
import { register } from 'node:module'

register('./hooks.mjs', import.meta.url)
