// Headless Chromium for the browser tests: Debian's `chromium` (or CHROMIUM_PATH) driven by
// playwright-core, which downloads no browser of its own.
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Starts Chromium, closed at teardown; no browser is a failure that says how to get one. */
export async function launchChromium (t: { teardown: (fn: () => unknown) => void }): Promise<Browser> {
  let browser: Browser
  try {
    // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'], timeout: 60_000 })
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err)
    throw new Error(`No headless Chromium could be started from ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH): ${reason}`)
  }
  t.teardown(() => browser.close())
  return browser
}
