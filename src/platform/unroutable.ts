import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { STATUS_CODES } from 'node:http'

/** How much of a path an answer repeats: enough to recognise it, never a whole over-long one. */
export const ECHOED_PATH_LENGTH = 100

/** A path as an error message may repeat it: capped, and without its query string. */
export function echoedPath (url: string): string {
  const path = url.split('?')[0]
  return path.length > ECHOED_PATH_LENGTH ? `${path.slice(0, ECHOED_PATH_LENGTH)}… (${path.length} characters)` : path
}

/** Unknown routes answer Fastify's 404 shape, with the path capped. */
export function installNotFound (app: FastifyInstance): void {
  app.setNotFoundHandler(async (request: FastifyRequest, reply: FastifyReply) => {
    return await reply.code(404).send({ message: `Route ${request.method}:${echoedPath(request.url)} not found`, error: 'Not Found', statusCode: 404 })
  })
}

/** Errors of the router (a malformed URL, a path parameter over maxParamLength): Fastify's shape, the path capped. */
export function frameworkErrors (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const statusCode = error.statusCode ?? 400
  const message = error.code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? `a path parameter is too long: ${echoedPath(request.url)}`
    : `malformed URL: ${echoedPath(request.url)}`
  reply.code(statusCode).send({ statusCode, code: error.code, error: STATUS_CODES[statusCode] ?? 'Error', message })
}
