import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { ruleSourceSchema, severitySchema } from '../../domain/rules.js'
import { principalOf } from '../auth.js'
import type { ApiServices } from '../services.js'
import { bearer, errorResponses } from './schemas.js'

const levels = z.object({
  warning: z.number().optional(),
  alarm: z.number().optional(),
  critical: z.number().optional(),
})

export const effectiveRuleSchema = z.object({
  ruleId: z.string(),
  title: z.object({ zh: z.string(), en: z.string() }),
  deviceKind: z.string(),
  subject: z.string(),
  pointCode: z.string().nullable(),
  unit: z.string().nullable(),
  levels: levels.nullable(),
  codes: z.record(z.string(), severitySchema).nullable(),
  hysteresis: z.number().nullable(),
  sustained: z.string().nullable(),
  modes: z.array(z.string()).nullable(),
  status: z.enum(['applies', 'needs-configuration', 'disabled']),
  origin: z.string(),
  needs: z.string().nullable(),
  unconfirmed: z.boolean(),
  sources: z.array(ruleSourceSchema),
})

/** `GET /api/rules`: the thresholds in force for the catalogue, a site or a device, and where each comes from. */
export function ruleRoutes(app: FastifyInstance, services: ApiServices): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/rules',
    {
      schema: {
        tags: ['rules'],
        summary:
          'The effective rules: thresholds per rule (and pit point), their origin (default, override, grade, design value), UNCONFIRMED marks, and what a rule still needs',
        description:
          'Without a site: the catalogue defaults. With `siteId`: the site’s grade, depth, support type and overrides, per known pit point. With `deviceId`: that device’s overrides and settings too.',
        security: bearer,
        querystring: z.strictObject({
          siteId: z.string().min(1).max(64).optional(),
          deviceId: z.string().min(1).max(64).optional(),
        }),
        response: { 200: z.object({ items: z.array(effectiveRuleSchema) }), ...errorResponses },
      },
    },
    async (request) => ({ items: await services.rules.effective(principalOf(request), request.query) }),
  )
}
