import { Type } from '../lib/typebox.js'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { readPackage } from '../lib/package-info.js'
import type { Readiness, ReadinessCheck } from './readiness.js'

const StatusOkSchema = Type.Object({
  status: Type.Literal('OK'),
  name: Type.String(),
  version: Type.String()
})

const StatusKoSchema = Type.Object({
  status: Type.Literal('KO'),
  name: Type.String(),
  version: Type.String(),
  message: Type.Optional(Type.String())
})

// hide: true keeps the probes out of OpenAPI; logLevel error keeps them out of the logs.
const routeOptions = {
  logLevel: 'error',
  schema: { hide: true, response: { 200: StatusOkSchema, 503: StatusKoSchema } }
} as const

/**
 * The Mia-Platform status routes (lc39 conventions), registered at the root so SERVICE_PREFIX
 * never moves them: /-/healthz says the process is alive; /-/ready whether this replica can serve
 * (its stores answer); /-/check-up whether every dependency, Kaleyra included, can be used. Both
 * turn 503 as soon as shutdown begins.
 */
export async function registerStatusRoutes (app: FastifyInstance, readiness: ReadinessCheck): Promise<void> {
  const { name, version } = readPackage()

  app.get('/-/healthz', routeOptions, async () => ({ status: 'OK' as const, name, version }))

  function answer (route: string, check: () => Promise<Readiness>) {
    return async (_request: FastifyRequest, reply: FastifyReply) => {
      const result = await check()
      if (result.ready) return { status: 'OK' as const, name, version }
      readiness.reportNotOk(route, result)
      return await reply.code(503).send({ status: 'KO' as const, name, version, message: result.message })
    }
  }
  app.get('/-/ready', routeOptions, answer('/-/ready', readiness.ready))
  app.get('/-/check-up', routeOptions, answer('/-/check-up', readiness.checkUp))
}
