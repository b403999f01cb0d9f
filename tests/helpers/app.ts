import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Test, TestOpts } from 'tap'
import type { BuiltPlugins } from '@tapjs/test'
import { composeApp, type AppOverrides } from '../../src/app.js'
import { loadConfig, type AppConfig } from '../../src/config/index.js'
import { resolveServiceConfig, DEFAULT_CONFIG_FILE } from '../../src/config/service-config.js'
import { startKaleyraEmulator, type EmulatorSettings, type KaleyraEmulator } from '../../src/emulator/index.js'
import { createCrudStores } from '../../src/store/crud/index.js'
import type { Services } from '../../src/services.js'
import { createMemoryStores } from '../../src/store/memory.js'
import type { Stores } from '../../src/store/types.js'
import type { FakeCrudService } from '../fakes/crud-service.js'
import { startCrud } from './crud.js'
import { captureLogs, type CapturedLogs } from './logs.js'
import { TEST_USER_ID_SECRET } from './kaleyra-ids.js'

export interface TestContext {
  app: FastifyInstance
  /** The services behind `app` (its reaper, Kaleyra client, readiness...). */
  services: Services
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

/**
 * Runs the same subtest once per store kind: `eachStore(t, 'name', async (t, store) => { await setup(t, { store }) })`.
 */
export function eachStore (t: Tap, name: string, fn: (t: Tap, store: StoreKind) => Promise<void>): void {
  for (const store of STORE_KINDS) t.test(`${name} [${store} store]`, async sub => { await fn(sub, store) })
}

export interface SetupOptions {
  /** Which store to build when `stores` is not given (default memory). */
  store?: StoreKind
  env?: Record<string, string | undefined>
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

/**
 * Deadline of every upstream call (Kaleyra, CRUD, identity, readiness checks) in test apps and
 * clients: long, so that a loaded machine never turns a normal call into a 504. Waiting that
 * long only happens when something is broken.
 */
export const UPSTREAM_TIMEOUT_MS = 30_000

/**
 * Deadline for the tests whose fault must make a call time out (a hang, or a latency longer than
 * it). A hang never answers, so it fires whatever the load; the test's other calls are light
 * local calls, well within it even on a machine ten times slower than idle.
 */
export const FAULT_TIMEOUT_MS = 1_000

/** `env` for an app whose Kaleyra calls time out after FAULT_TIMEOUT_MS. */
export const KALEYRA_FAULT_TIMEOUT = { KALEYRA_TIMEOUT_MS: String(FAULT_TIMEOUT_MS) }

/** `env` for an app whose CRUD calls time out after FAULT_TIMEOUT_MS. */
export const CRUD_FAULT_TIMEOUT = { CRUD_TIMEOUT_MS: String(FAULT_TIMEOUT_MS) }

/**
 * Fast reaper timings so background clean-up happens within a test. The last looks for a room
 * created late come long after the fault tests' latencies: they only run on a loaded machine.
 */
export const FAST_REAPER = {
  retryDelaysMs: [20, 50, 100, 200],
  reconcileDelaysMs: [100, 400, 1500, 5_000, 20_000],
  sweepIntervalMs: 0
}

/** Fast CRUD store timings (retries, checks for inserts whose answer was lost; the late ones as above). */
export const FAST_CRUD = { retryDelayMs: 5, lostInsertChecksMs: [50, 200, 800, 4_000, 15_000] }

/** Stores of the given kind (CRUD: over `crud`, or a fresh fake CRUD Service), for tests that wrap them. */
export async function storesOf (t: Teardown, kind: StoreKind, crud?: FakeCrudService): Promise<Stores> {
  if (kind === 'memory') return createMemoryStores()
  crud ??= await startCrud(t)
  const stores = createCrudStores({
    baseUrl: crud.url,
    timeoutMs: UPSTREAM_TIMEOUT_MS,
    teleconsultationsPath: 'teleconsultations',
    userMapPath: 'teleconsultations_users',
    userIdHeader: 'miauserid',
    ...FAST_CRUD
  })
  t.teardown(async () => {
    await Promise.all([stores.teleconsultations.close(), stores.userMap.close(), stores.idempotency.close()])
  })
  return stores
}

export async function startEmulator (t: Teardown, settings?: Partial<EmulatorSettings>): Promise<KaleyraEmulator> {
  const emulator = await startKaleyraEmulator({ apiKey: `ak_test_${randomBytes(8).toString('hex')}`, settings })
  t.teardown(() => emulator.close())
  return emulator
}

/**
 * Builds the service against a fresh Kaleyra emulator on 127.0.0.1 and a memory store, or
 * (store: 'crud') the CRUD store against a fake CRUD Service. Upstream deadlines are
 * UPSTREAM_TIMEOUT_MS unless `env` says otherwise.
 */
export async function setup (t: Teardown, opts: SetupOptions = {}): Promise<TestContext> {
  const emulator = opts.emulator ?? await startEmulator(t)
  const crud = opts.store === 'crud' && opts.stores === undefined ? opts.crud ?? await startCrud(t) : undefined
  const config = loadConfig({
    BANDYER_BASE_URL: emulator.url,
    BANDYER_API_SECRET_KEY: emulator.apiKey,
    KALEYRA_USER_ID_SECRET: TEST_USER_ID_SECRET,
    KALEYRA_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
    CRUD_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
    IDENTITY_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
    STATUS_CHECK_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
    ...(crud !== undefined ? { CRUD_SERVICE_URL: crud.url } : {}),
    ...opts.env
  })
  if (opts.serviceConfig !== undefined) {
    config.service = resolveServiceConfig(opts.serviceConfig, config.env.USERID_HEADER_KEY)
  }
  const logs = captureLogs(opts.env?.LOG_LEVEL)
  const { app, services } = await composeApp(config, {
    loggerInstance: logs.logger,
    stores: crud !== undefined ? undefined : opts.stores ?? createMemoryStores(),
    crud: FAST_CRUD,
    reaper: FAST_REAPER,
    kaleyraRetryDelayMs: 5,
    ...opts.overrides
  })
  t.teardown(() => app.close())
  await app.ready()
  return { app, services, emulator, stores: services.stores, logs, config, crud }
}

export { DEFAULT_CONFIG_FILE }
