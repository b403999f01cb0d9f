// First: with ENABLE_TRACING=true it starts OpenTelemetry before fastify and undici are loaded.
import { tracing } from './platform/tracing.js'
import { setTimeout as sleep } from 'node:timers/promises'
import closeWithGrace from 'close-with-grace'
import { composeApp } from './app.js'
import { ConfigError, loadConfig } from './config/index.js'
import { apiPrefix, listenHost } from './config/env.js'

async function main (): Promise<void> {
  let config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${err.message}\n`)
      process.exit(1)
    }
    throw err
  }

  // The emulator (demo mode only) is not even loaded otherwise.
  const demo = config.env.KALEYRA_EMULATOR ? await import('./demo.js') : null
  const emulator = demo !== null ? await demo.startEmbeddedKaleyra(config.env) : null
  if (emulator !== null) config = { ...config, env: emulator.env }

  const { app, services } = await composeApp(config)
  for (const warning of config.warnings ?? []) app.log.warn(warning)
  if (emulator !== null) app.addHook('onClose', async () => { await emulator.emulator.close() })
  // After the in-flight requests: their spans are exported before the process exits.
  const tracingShutdown = tracing?.shutdown
  if (tracingShutdown !== undefined) app.addHook('onClose', async () => { await tracingShutdown(app.log) })

  const waitMs = config.env.WAIT_BEFORE_SERVER_CLOSE_SEC * 1000
  // The whole shutdown (wait + close) must end before close-with-grace forces the exit (code 1):
  // the close is bounded (docs/operations.md, "Shutdown") to end well within these 5 s.
  const graceLogger = { error: (problem: unknown) => problem instanceof Error ? app.log.error({ err: problem }, 'shutdown failed') : app.log.error(String(problem)) }
  closeWithGrace({ delay: waitMs + 5_000, logger: graceLogger }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'closing after an unexpected error')
    else app.log.info({ signal, waitMs }, 'shutting down: reporting not ready')
    // At a terminal, say once how not to wait (close-with-grace exits at once on a second signal).
    if (signal === 'SIGINT' && process.stdout.isTTY) process.stderr.write('Shutting down; press Ctrl-C again to exit at once.\n')
    // Readiness turns 503 at once; the endpoints of a Kubernetes Service take a few seconds to
    // drop this pod, during which requests still arrive and are served normally.
    services.readiness.beginShutdown()
    if (waitMs > 0) await sleep(waitMs)
    // Stops accepting connections, lets in-flight requests finish, then closes the upstream pools.
    app.log.info('closing the server')
    await app.close()
    app.log.info('closed')
  })

  const address = await app.listen({ host: listenHost(config.env), port: config.env.HTTP_PORT })
  if (demo !== null && emulator !== null) {
    const local = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1')
    // The emulator tells the service what Kaleyra would (rooms deleted, recordings ready).
    if (config.env.KALEYRA_WEBHOOKS) emulator.emulator.setWebhookUrl(`${local}${apiPrefix(config.env)}/webhooks/kaleyra`)
    demo.connectEmulator(emulator.emulator, services, local, config.env)
    const emulatorUrl = config.env.KALEYRA_EMULATOR_PUBLIC_URL ?? emulator.env.BANDYER_BASE_URL ?? emulator.emulator.url
    process.stdout.write(demo.demoHelp(local, emulatorUrl, config.env) + '\n')
  }
}

await main()
