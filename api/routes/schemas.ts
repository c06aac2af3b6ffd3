import { z } from 'zod'
import { errorCatalog } from '../../domain/errors.js'

/** The error envelope of CONTRACT §5, for the OpenAPI document. */
export const errorSchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(errorCatalog) as [keyof typeof errorCatalog, ...(keyof typeof errorCatalog)[]]),
    message: z.string(),
    details: z.unknown().optional(),
  }),
})

export const errorResponses = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
} as const
export const bearer = [{ bearerAuth: [] }]
