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
  const service = loadServiceConfig(env.TELECONSULTATION_SERVICE_CONFIG_PATH, env.USERID_HEADER_KEY, message =>
    warnings.push(message)
  )
  if (env.AUTH_JWKS_URL !== undefined && plainHttpElsewhere(env.AUTH_JWKS_URL)) {
    warnings.push('AUTH_JWKS_URL is plain http to another host: whoever sits on the way can hand out keys; use https')
  }
  return { env, service, warnings }
}

/** An http:// URL to anything but this machine. */
function plainHttpElsewhere (url: string): boolean {
  const { protocol, hostname } = new URL(url)
  return protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(hostname)
}

export type { Env } from './env.js'
export type { ServiceConfig } from './service-config.js'
export { ConfigError } from './errors.js'
