// `node --import` this file: every ES module the process loads is appended, one URL per line, to
// the file named by RECORD_MODULES_TO. For tests that check what a configuration loads.
import { register } from 'node:module'

register('./hooks.mjs', import.meta.url, { data: { file: process.env.RECORD_MODULES_TO } })
