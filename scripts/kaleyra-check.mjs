// `npm run kaleyra:check`: builds when the sources changed (progress on stderr, so that --json
// output stays one document), then checks the Kaleyra account configured in the environment.
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { buildIfStale, root } from './lib/build.mjs'

buildIfStale({ out: process.stderr })
const { main } = await import(pathToFileURL(join(root, 'dist', 'kaleyra-check', 'main.js')).href)
process.exitCode = await main(process.argv.slice(2))
