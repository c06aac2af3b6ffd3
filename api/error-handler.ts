import type { FastifyError, FastifyInstance } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { ZodError } from 'zod'
import { type ErrorCode, errorCatalog, isSitewardError } from '../domain/errors.js'
import { formatIssues } from '../domain/issues.js'

export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; details?: unknown }
}

const envelope = (code: ErrorCode, message?: string, details?: unknown): ErrorEnvelope => ({
  error: {
    code,
    message: message ?? errorCatalog[code].message,
    ...(details === undefined ? {} : { details }),
  },
})

/** Every error leaves the API as `{ error: { code, message, details? } }` (CONTRACT §5). */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .send(envelope('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`))
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (isSitewardError(error)) {
      return reply.code(error.status).send(envelope(error.code, error.message, error.details ?? undefined))
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const details = error.validation.map((issue) => {
        const path = issue.instancePath.replace(/^\//, '').replace(/\//g, '.')
        return `${error.validationContext ?? 'request'}${path === '' ? '' : `.${path}`}: ${issue.message}`
      })
      return reply.code(400).send(envelope('VALIDATION_FAILED', details.join('; '), details))
    }
    if (error instanceof ZodError) {
      const details = formatIssues(error)
      return reply.code(400).send(envelope('VALIDATION_FAILED', details.join('; '), details))
    }
    if (error.statusCode === 413) return reply.code(413).send(envelope('PAYLOAD_TOO_LARGE'))
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send(envelope('VALIDATION_FAILED', error.message))
    }
    request.log.error({ err: error }, 'request failed')
    return reply.code(500).send(envelope('INTERNAL_ERROR'))
  })
}
