// `npm run kaleyra:check`: run once against your own Kaleyra account before going live. Also
// `node dist/kaleyra-check/main.js` after a build.
import { createReadStream, statSync } from 'node:fs'
import { basename } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig, type AppConfig } from '../config/index.js'
import { createKaleyraClient } from '../kaleyra/client.js'
import { KALEYRA_ID_REGEX } from '../kaleyra/model.js'
import { readPackage } from '../lib/package-info.js'
import { formatLine, jsonDocument, passed, textTrailer } from './report.js'
import { runCheck } from './run.js'

export const USAGE = `Usage: npm run kaleyra:check -- [--json] [--with-background FILE.jpg] [--with-session SESSION_ID]

Checks the Kaleyra account of BANDYER_BASE_URL and BANDYER_API_SECRET_KEY (from the environment
or .env) against every call the service makes, with the service's own requests and parsers.
It creates two test users (tcs-check-plus, tcs-check-basic; deactivated at the end and reused
next time) and one room (always deleted). --with-background also uploads FILE.jpg as a virtual
background (the company default is not changed). --with-session also asks for the recording
download link of SESSION_ID, a session of a recorded call (the link is not shown). --json prints
one JSON document.

Exit status: 0 when every call is ok, 1 otherwise, 2 for a usage or configuration error, 130
when interrupted (Ctrl-C: the clean-up still runs; a second Ctrl-C quits at once).
`

interface Output { write: (text: string) => unknown }

/** The user agent of the check's requests, so that Kaleyra's logs tell them from the service's. */
export function checkUserAgent (): string {
  const { name, version } = readPackage()
  return `${name}/${version} (kaleyra:check)`
}

function isFile (path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

function configure (err: Output): AppConfig | null {
  try {
    const config = loadConfig()
    if (config.env.KALEYRA_EMULATOR) {
      err.write('kaleyra:check checks a Kaleyra account: unset KALEYRA_EMULATOR and set BANDYER_BASE_URL and BANDYER_API_SECRET_KEY\n')
      return null
    }
    return config
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e
    err.write(`Configuration error: ${e.message}\n`)
    return null
  }
}

export async function main (
  argv: string[],
  out: Output = process.stdout,
  err: Output = process.stderr
): Promise<number> {
  let values: { json?: boolean; 'with-background'?: string; 'with-session'?: string; help?: boolean }
  try {
    values = parseArgs({
      args: argv,
      options: { json: { type: 'boolean' }, 'with-background': { type: 'string' }, 'with-session': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false
    }).values
  } catch (e) {
    err.write(`${(e as Error).message}\n\n${USAGE}`)
    return 2
  }
  if (values.help === true) {
    out.write(USAGE)
    return 0
  }
  const backgroundPath = values['with-background']
  if (backgroundPath !== undefined && !isFile(backgroundPath)) {
    err.write(`--with-background: ${backgroundPath} is not a readable file\n`)
    return 2
  }
  const recordingSession = values['with-session']
  if (recordingSession !== undefined && !KALEYRA_ID_REGEX.test(recordingSession)) {
    err.write(`--with-session: ${recordingSession} is not a Kaleyra session id\n`)
    return 2
  }
  const config = configure(err)
  if (config === null) return 2
  const { env } = config
  const baseUrl = env.BANDYER_BASE_URL as string
  const target = new URL(baseUrl).host
  const kaleyra = createKaleyraClient({
    baseUrl,
    apiKey: env.BANDYER_API_SECRET_KEY as string,
    timeoutMs: env.KALEYRA_TIMEOUT_MS,
    userAgent: checkUserAgent()
  })

  let stopped = false
  const onSignal = (): void => {
    if (stopped) {
      err.write('Quit before the clean-up ended: the test room and users may be left on Kaleyra.\n')
      process.exit(130)
    }
    stopped = true
    err.write('Stopping after the current call, then cleaning up (Ctrl-C again to quit at once).\n')
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const json = values.json === true
  if (!json) {
    const transcription = env.DEFAULT_RECORDING_TYPE !== 'none' && env.OFFLINE_TRANSCRIPTION ? 'on' : 'off'
    out.write(`Checking Kaleyra at ${target} (recording ${env.DEFAULT_RECORDING_TYPE}, offline transcription ${transcription})\n`)
  }
  try {
    const report = await runCheck({
      config,
      kaleyra,
      stopped: () => stopped,
      recordingSession,
      background: backgroundPath === undefined
        ? undefined
        : () => ({ filename: basename(backgroundPath), contentType: 'image/jpeg', content: createReadStream(backgroundPath) }),
      onResult: json ? undefined : result => out.write(`${formatLine(result)}\n`)
    })
    out.write(json ? `${JSON.stringify(jsonDocument(report, target), null, 2)}\n` : `${textTrailer(report).join('\n')}\n`)
    if (report.interrupted) return 130
    return passed(report) ? 0 : 1
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await kaleyra.close()
  }
}

// Run when executed, not when imported (scripts/kaleyra-check.mjs imports it).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2))
}
