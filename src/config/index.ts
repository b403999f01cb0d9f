import { loadEnv, type Env } from './env.js'
import { loadServiceConfig, type ServiceConfig } from './service-config.js'

export interface AppConfig {
  env: Env
  service: ServiceConfig
  /** Problems that do not stop the start (unknown keys in the config file), logged once at start. */
  warnings?: string[]
}

/** Loads the whole configuration once at start; throws ConfigError with one line naming the problem. */
export function loadConfig (source?: Record<string, string | undefined>): AppConfig {
  const env = loadEnv(source)
  const warnings: string[] = []
  const service = loadServiceConfig(env.TELECONSULTATION_SERVICE_CONFIG_PATH, env.USERID_HEADER_KEY, message => warnings.push(message))
  return { env, service, warnings }
}

export type { Env } from './env.js'
export type { ServiceConfig } from './service-config.js'
export { ConfigError } from './errors.js'
