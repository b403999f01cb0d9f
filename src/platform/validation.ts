import { Ajv, type Options } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'

const common: Options = { useDefaults: true, removeAdditional: true, allErrors: false, strict: false }

/**
 * Bodies are validated as sent (a string is not silently turned into an array);
 * querystring, params and headers are strings on the wire, so they are coerced.
 */
export function createValidatorCompiler (): FastifySchemaCompiler<unknown> {
  const strict = new Ajv({ ...common, coerceTypes: false })
  const coercing = new Ajv({ ...common, coerceTypes: 'array' })
  addFormats.default(strict)
  addFormats.default(coercing)
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as object)
}
