import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { SitewardError } from '../../domain/errors.js'
import type { Principal, Site } from '../../domain/registry.js'
import { deviceSchema, roleSchema, siteSchema } from '../../domain/registry.js'
import { canSeeSite, siteFilter } from '../../domain/scope.js'
import { principalOf } from '../auth.js'
import type { ApiServices } from '../services.js'
import { bearer, errorResponses } from './schemas.js'

const siteParams = z.object({ siteId: z.string().min(1).max(64) })
const deviceParams = z.object({ deviceId: z.string().min(1).max(64) })

/** Sites and devices in the caller's scope, with device presence and reject counters. */
export function registryRoutes(app: FastifyInstance, services: ApiServices): void {
  const api = app.withTypeProvider<ZodTypeProvider>()
  const { registry } = services

  api.get(
    '/api/me',
    {
      schema: {
        tags: ['registry'],
        summary:
          'Who the token belongs to (name, role, sites of officers and supervisors, region of regulators) and the escalation deadlines, for the console',
        security: bearer,
        response: {
          200: z.object({
            name: z.string(),
            role: roleSchema,
            sites: z.array(z.string()),
            region: z.string().nullable(),
            escalation: z.object({
              acknowledgeWithinMs: z.record(z.string(), z.number()),
              resolveWithinMs: z.record(z.string(), z.number()),
              maxLevel: z.number(),
            }),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { name, role, sites, region } = principalOf(request)
      return { name, role, sites: [...sites], region, escalation: services.escalation }
    },
  )

  api.get(
    '/api/sites',
    {
      schema: {
        tags: ['registry'],
        summary: 'Sites in your scope',
        security: bearer,
        response: { 200: z.object({ items: z.array(siteSchema) }), ...errorResponses },
      },
    },
    async (request) => ({ items: await registry.listSites(siteFilter(principalOf(request))) }),
  )

  api.get(
    '/api/sites/:siteId',
    {
      schema: {
        tags: ['registry'],
        summary: 'One site, with what its configuration leaves the rules unable to judge (`issues`)',
        description:
          'Issues: PIT_GRADE_MISSING (grade 1 assumed), PIT_DEPTH_MISSING (%H limits cannot apply), POINT_VALUE_MISSING (a rule needs the designer’s value), CRANE_CAPACITY_MISSING (lifts not judged for load).',
        security: bearer,
        params: siteParams,
        response: {
          200: siteSchema.extend({
            issues: z.array(
              z.object({
                code: z.string(),
                message: z.string(),
                pointCode: z.string().optional(),
                deviceId: z.string().optional(),
                ruleId: z.string().optional(),
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const site = visibleSite(
        principalOf(request),
        await registry.getSite(request.params.siteId),
        request.params.siteId,
      )
      return { ...site, issues: await services.rules.siteIssues(site.id) }
    },
  )

  api.get(
    '/api/sites/:siteId/devices',
    {
      schema: {
        tags: ['registry'],
        summary: "A site's devices: online, lastSeenAt, rejectedCount, lastRejectReason",
        security: bearer,
        params: siteParams,
        response: { 200: z.object({ items: z.array(deviceSchema) }), ...errorResponses },
      },
    },
    async (request) => {
      const site = visibleSite(
        principalOf(request),
        await registry.getSite(request.params.siteId),
        request.params.siteId,
      )
      return { items: await registry.listDevices(site.id) }
    },
  )

  api.get(
    '/api/devices/:deviceId',
    {
      schema: {
        tags: ['registry'],
        summary: 'One device',
        security: bearer,
        params: deviceParams,
        response: { 200: deviceSchema, ...errorResponses },
      },
    },
    async (request) => {
      const device = await registry.getDevice(request.params.deviceId)
      const site = device === undefined ? undefined : await registry.getSite(device.siteId)
      if (device === undefined || site === undefined || !canSeeSite(principalOf(request), site)) {
        throw new SitewardError('DEVICE_NOT_FOUND', `no device ${request.params.deviceId} in your scope`)
      }
      return device
    },
  )
}

export function visibleSite(principal: Principal, site: Site | undefined, siteId: string): Site {
  if (site === undefined || !canSeeSite(principal, site))
    throw new SitewardError('SITE_NOT_FOUND', `no site ${siteId} in your scope`)
  return site
}
