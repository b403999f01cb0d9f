import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { readPackage } from './package-info.js'

/** OpenAPI 3 at /documentation/json and the UI at /documentation, never moved by SERVICE_PREFIX. */
export async function registerOpenApi (app: FastifyInstance): Promise<void> {
  const pkg = readPackage()
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Teleconsultation Service Backend', description: pkg.description, version: pkg.version },
      tags: [
        { name: 'Teleconsultations', description: 'Schedule, update, join and delete teleconsultations' },
        { name: 'Credentials', description: 'Kaleyra SDK access tokens for mobile apps' },
        { name: 'Settings', description: 'Company virtual backgrounds' },
        { name: 'Transcriptions', description: 'Transcriptions of recorded calls' }
      ]
    },
    hideUntagged: true
  })
  await app.register(swaggerUi, { routePrefix: '/documentation' })
}
