import { Ajv, type Options, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'
import { coerceScalars } from './coercion.js'

const common: Options = { useDefaults: true, removeAdditional: true, allErrors: false, strict: false }

type BodyValidator = ((data: unknown) => boolean | { value: unknown }) & { errors?: ValidateFunction['errors'] }

/**
 * Bodies: numbers, integers and booleans sent as strings are coerced as custom-plugin-lib coerced
 * them (see coercion.ts), then validated as they are (a string never becomes an array).
 * Querystring, params and headers are strings on the wire: Fastify's `coerceTypes: 'array'`.
 */
export function createValidatorCompiler (): FastifySchemaCompiler<unknown> {
  const strict = new Ajv({ ...common, coerceTypes: false })
  const coercing = new Ajv({ ...common, coerceTypes: 'array' })
  addFormats.default(strict)
  addFormats.default(coercing)
  return ({ schema, httpPart }) => {
    if (httpPart !== 'body') return coercing.compile(schema as object)
    const validate = strict.compile(schema as object)
    const validateBody: BodyValidator = data => {
      const value = coerceScalars(schema, data)
      const valid = validate(value)
      validateBody.errors = validate.errors
      return valid && value !== data ? { value } : valid
    }
    return validateBody
  }
}
