import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { siteFilter } from '../../domain/scope.js'
import { principalOf } from '../auth.js'
import type { ApiServices } from '../services.js'
import { visibleSite } from './registry.js'
import { bearer, errorResponses } from './schemas.js'
import { ruleOverrideSchema } from './settings.js'

const levels = z.record(z.string(), z.number()).nullable()
export const overrideViewSchema = ruleOverrideSchema.extend({
  title: z.object({ zh: z.string(), en: z.string() }),
  defaults: z.array(z.object({ pointCode: z.string().nullable(), levels })),
  laxer: z.array(z.string()),
})
const changeSchema = z.object({
  id: z.number().int(),
  at: z.string(),
  by: z.string(),
  siteId: z.string(),
  deviceId: z.string().nullable(),
  subject: z.string(),
  change: z.unknown(),
  laxer: z.array(z.string()),
})

/** Every override and settings change in the caller's scope: what regulators check (issue 13). */
export function overrideRoutes(app: FastifyInstance, services: ApiServices): void {
  const api = app.withTypeProvider<ZodTypeProvider>()
  api.get(
    '/api/overrides',
    {
      schema: {
        tags: ['rules'],
        summary:
          'The threshold overrides in force, each beside the limits it replaces and the ways it loosens them (laxer), and the latest 200 settings changes with who made them',
        description:
          'Every role, within its scope: a regulator sees every site of the region. An override with a non-empty laxer list loosens a statutory limit; only an admin can have set it, within the catalogue’s bounds.',
        security: bearer,
        querystring: z.object({ siteId: z.string().min(1).max(64).optional() }),
        response: {
          200: z.object({ items: z.array(overrideViewSchema), changes: z.array(changeSchema) }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const { siteId } = request.query
      const siteIds =
        siteId === undefined
          ? (await services.registry.listSites(siteFilter(principal))).map((site) => site.id)
          : [visibleSite(principal, await services.registry.getSite(siteId), siteId).id]
      const { overrides, changes } = await services.settings.overridesOf(siteIds)
      return {
        items: overrides.map((view) => ({ ...view, defaults: [...view.defaults], laxer: [...view.laxer] })),
        changes: changes.map((change) => ({ ...change, laxer: [...change.laxer] })),
      }
    },
  )
}
