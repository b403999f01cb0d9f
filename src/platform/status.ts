import type { FastifyInstance } from 'fastify'
import { readPackage } from './package-info.js'

/** Liveness probe (Mia-Platform convention), outside any prefix and hidden from OpenAPI. */
export async function registerStatusRoutes (app: FastifyInstance): Promise<void> {
  const { name, version } = readPackage()
  app.get('/-/healthz', { logLevel: 'error', schema: { hide: true } }, async () => ({ status: 'OK', name, version }))
}
