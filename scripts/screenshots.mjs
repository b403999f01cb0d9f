// `npm run screenshots`: the demo's waiting room and the joined call, as docs/demo-waiting-room.png
// and docs/demo-call.png (shown in the README). Runs the demo on free ports and drives the
// system's Chromium (CHROMIUM_PATH, default /usr/bin/chromium) with playwright-core.
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { chromium } from 'playwright-core'
import { buildIfStale, root } from './lib/build.mjs'

const STARTS_IN_S = 8

async function freePort () {
  const server = createServer()
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise(resolve => server.close(resolve))
  return port
}

buildIfStale()
const port = await freePort()
const demo = spawn(process.execPath, [join(root, 'scripts', 'demo.mjs')], {
  cwd: root,
  env: { ...process.env, HTTP_PORT: String(port), KALEYRA_EMULATOR_PORT: String(await freePort()) },
  stdio: 'ignore'
})
const url = `http://127.0.0.1:${port}`
let browser
try {
  for (let ready = false; !ready; await sleep(250)) {
    if (demo.exitCode !== null) throw new Error(`the demo exited (${demo.exitCode})`)
    ready = await fetch(`${url}/-/ready`).then(res => res.ok, () => false)
  }
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] })
  const context = await browser.newContext({ viewport: { width: 960, height: 720 }, deviceScaleFactor: 1 })
  const start = await context.newPage()
  await start.goto(`${url}/demo/`)
  await start.fill('#delay', String(STARTS_IN_S))
  await start.click('button[type="submit"]')
  const link = start.locator('a[data-user="patient-1"]')
  const [room] = await Promise.all([context.waitForEvent('page'), link.click()])
  await room.setViewportSize({ width: 960, height: 720 })
  await room.locator('#expected li').nth(1).waitFor()
  await sleep(1500) // a countdown that has started
  await room.screenshot({ path: join(root, 'docs', 'demo-waiting-room.png') })
  await room.frameLocator('#call-frame').locator('h1').waitFor({ timeout: (STARTS_IN_S + 30) * 1000 })
  await room.screenshot({ path: join(root, 'docs', 'demo-call.png') })
  process.stdout.write('docs/demo-waiting-room.png and docs/demo-call.png written\n')
} finally {
  await browser?.close()
  demo.kill('SIGTERM')
}
