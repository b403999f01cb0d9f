import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Test, TestOpts } from 'tap'
import type { BuiltPlugins } from '@tapjs/test'
import { buildApp, type AppOverrides } from '../../src/app.js'
import { loadConfig, type AppConfig } from '../../src/config/index.js'
import { resolveServiceConfig, DEFAULT_CONFIG_FILE } from '../../src/config/service-config.js'
import { startKaleyraEmulator, type KaleyraEmulator } from '../../src/emulator/index.js'
import { createCrudStores } from '../../src/store/crud/index.js'
import { createMemoryStores } from '../../src/store/memory.js'
import type { Stores } from '../../src/store/types.js'
import type { FakeCrudService } from '../fakes/crud-service.js'
import { startCrud } from './crud.js'
import { captureLogs, type CapturedLogs } from './logs.js'

export interface TestContext {
  app: FastifyInstance
  emulator: KaleyraEmulator
  stores: Stores
  logs: CapturedLogs
  config: AppConfig
  /** The fake CRUD Service behind the CRUD store (store: 'crud' only). */
  crud?: FakeCrudService
}

export type StoreKind = 'memory' | 'crud'

/** The stores every route test runs against. */
export const STORE_KINDS: StoreKind[] = ['memory', 'crud']

/** A tap test (the top-level `t` or a subtest). */
export type Tap = Test<BuiltPlugins, TestOpts> & BuiltPlugins

/** Runs the same subtest once per store kind: `eachStore(t, 'name', async (t, store) => { await setup(t, { store }) })`. */
export function eachStore (t: Tap, name: string, fn: (t: Tap, store: StoreKind) => Promise<void>): void {
  for (const store of STORE_KINDS) t.test(`${name} [${store} store]`, async sub => { await fn(sub, store) })
}

export interface SetupOptions {
  /** Which store to build when `stores` is not given (default memory). */
  store?: StoreKind
  env?: Record<string, string>
  /** Replaces the default service configuration file content. */
  serviceConfig?: unknown
  stores?: Stores
  overrides?: Partial<AppOverrides>
  /** Reuse an emulator (several app instances sharing one Kaleyra). */
  emulator?: KaleyraEmulator
  /** Reuse a fake CRUD Service (store: 'crud'; several app instances sharing one CRUD). */
  crud?: FakeCrudService
}

interface Teardown { teardown: (fn: () => unknown) => void }

/** Fast reaper timings so background clean-up happens within a test. */
export const FAST_REAPER = { retryDelaysMs: [20, 50, 100, 200], reconcileDelaysMs: [100, 400, 1500], sweepIntervalMs: 0 }

/** Fast CRUD store timings (retries, checks for inserts whose answer was lost). */
export const FAST_CRUD = { retryDelayMs: 5, lostInsertChecksMs: [50, 200, 800] }

/** Stores of the given kind (CRUD: over a fresh fake CRUD Service), for tests that wrap them. */
export async function storesOf (t: Teardown, kind: StoreKind): Promise<Stores> {
  if (kind === 'memory') return createMemoryStores()
  const crud = await startCrud(t)
  const stores = createCrudStores({
    baseUrl: crud.url,
    timeoutMs: 1000,
    teleconsultationsPath: 'teleconsultations',
    userMapPath: 'teleconsultations_users',
    userIdHeader: 'miauserid',
    ...FAST_CRUD
  })
  t.teardown(async () => { await Promise.all([stores.teleconsultations.close(), stores.userMap.close()]) })
  return stores
}

export async function startEmulator (t: Teardown): Promise<KaleyraEmulator> {
  const emulator = await startKaleyraEmulator({ apiKey: `ak_test_${randomBytes(8).toString('hex')}` })
  t.teardown(() => emulator.close())
  return emulator
}

/**
 * Builds the service against a fresh Kaleyra emulator on 127.0.0.1 and a memory store, or
 * (store: 'crud') the CRUD store against a fake CRUD Service.
 */
export async function setup (t: Teardown, opts: SetupOptions = {}): Promise<TestContext> {
  const emulator = opts.emulator ?? await startEmulator(t)
  const crud = opts.store === 'crud' && opts.stores === undefined ? opts.crud ?? await startCrud(t) : undefined
  const config = loadConfig({
    BANDYER_BASE_URL: emulator.url,
    BANDYER_API_SECRET_KEY: emulator.apiKey,
    KALEYRA_TIMEOUT_MS: '1000',
    ...(crud !== undefined ? { CRUD_SERVICE_URL: crud.url, CRUD_TIMEOUT_MS: '1000' } : {}),
    ...opts.env
  })
  if (opts.serviceConfig !== undefined) config.service = resolveServiceConfig(opts.serviceConfig, config.env.USERID_HEADER_KEY)
  const logs = captureLogs(opts.env?.LOG_LEVEL)
  const app = await buildApp(config, {
    loggerInstance: logs.logger,
    stores: crud !== undefined ? undefined : opts.stores ?? createMemoryStores(),
    crud: FAST_CRUD,
    reaper: FAST_REAPER,
    kaleyraRetryDelayMs: 5,
    ...opts.overrides
  })
  t.teardown(() => app.close())
  await app.ready()
  return { app, emulator, stores: app.stores, logs, config, crud }
}

export { DEFAULT_CONFIG_FILE }
