import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { loadChartSchema } from '../../domain/load-chart.js'
import { pitItemSchema } from '../../domain/payloads.js'
import {
  deviceSettingsInputSchema,
  deviceSettingsSchema,
  pointSettingsInputSchema,
  ruleOverrideInputSchema,
} from '../../domain/settings.js'
import { principalOf } from '../auth.js'
import type { ApiServices } from '../services.js'
import { bearer, errorResponses } from './schemas.js'

const level = z.number().nullable().optional()
export const ruleOverrideSchema = z.object({
  siteId: z.string(),
  ruleId: z.string(),
  deviceId: z.string().nullable(),
  settings: z.object({
    levels: z.object({ warning: level, alarm: level, critical: level }).optional(),
    hysteresis: z.number().optional(),
    minSamples: z.number().optional(),
    enabled: z.boolean().optional(),
  }),
  updatedAt: z.string(),
  updatedBy: z.string(),
})
const pointSchema = z.object({
  siteId: z.string(),
  pointCode: z.string(),
  item: pitItemSchema,
  baseline: z.number().nullable(),
  designValue: z.number().nullable(),
  capacity: z.number().nullable(),
  prestress: z.number().nullable(),
  designLoad: z.number().nullable(),
  cumulativeAlarm: z.number().nullable(),
  rateAlarm: z.number().nullable(),
  pairPointCode: z.string().nullable(),
  differentialAlarm: z.number().nullable(),
  expectedIntervalMs: z.number().nullable(),
  resolution: z.number().nullable(),
  updatedAt: z.string(),
  updatedBy: z.string(),
})
/** Threshold overrides per site or device, and pit point settings (CONTRACT §4, §5.1). */
export function settingsRoutes(app: FastifyInstance, services: ApiServices): void {
  const api = app.withTypeProvider<ZodTypeProvider>()
  api.put(
    '/api/sites/:siteId/rules/:ruleId',
    {
      schema: {
        tags: ['rules'],
        summary:
          "Override a rule's levels, hysteresis or sample count for a site, or for one device (deviceId); or disable it",
        description:
          'Supervisors of the site and admins may make a rule stricter. Loosening it (a laxer level, more samples, switching it off) is for admins only, and only within the bounds the catalogue declares (RULES.md); anything else is refused with the reason. A level set to null is removed (never allowed for a level the rule has). Every change is recorded with who made it (GET /api/overrides), and alerts record which override fired.',
        security: bearer,
        params: z.object({ siteId: z.string().min(1).max(64), ruleId: z.string().min(1).max(64) }),
        body: ruleOverrideInputSchema,
        response: { 200: ruleOverrideSchema, ...errorResponses },
      },
    },
    async (request) =>
      services.settings.putRuleOverride(
        request.params.siteId,
        request.params.ruleId,
        request.body,
        principalOf(request),
      ),
  )
  api.put(
    '/api/devices/:deviceId/load-chart',
    {
      schema: {
        tags: ['rules'],
        summary:
          "A crane's load chart (rated load by radius): moment % is computed when the monitor sends only load and radius",
        security: bearer,
        params: z.object({ deviceId: z.string().min(1).max(64) }),
        body: z.strictObject({ points: loadChartSchema }),
        response: {
          200: z.object({
            deviceId: z.string(),
            chart: loadChartSchema,
            updatedAt: z.string(),
            updatedBy: z.string(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) =>
      services.settings.putLoadChart(request.params.deviceId, request.body.points, principalOf(request)),
  )
  api.put(
    '/api/devices/:deviceId/settings',
    {
      schema: {
        tags: ['rules'],
        summary:
          "A device's settings: its expected reporting interval; a crane's rated capacity, hook height limit, radius limits and forbidden slew sectors",
        description:
          'Supervisors of the site and admins. Fields given replace the stored ones; null removes one. Without a crane limit its rule does not apply (`siteward rule list` says so).',
        security: bearer,
        params: z.object({ deviceId: z.string().min(1).max(64) }),
        body: deviceSettingsInputSchema,
        response: { 200: deviceSettingsSchema, ...errorResponses },
      },
    },
    async (request) =>
      services.settings.putDeviceSettings(request.params.deviceId, request.body, principalOf(request)),
  )
  api.put(
    '/api/sites/:siteId/points/:pointCode',
    {
      schema: {
        tags: ['rules'],
        summary: "A pit point's configuration: item, baseline, design value, the designer's alarm values",
        description:
          'GB 50497-2019 §8.0.1: the designer sets the alarm values; they replace the table defaults for this point.',
        security: bearer,
        params: z.object({ siteId: z.string().min(1).max(64), pointCode: z.string().min(1).max(64) }),
        body: pointSettingsInputSchema,
        response: { 200: pointSchema, ...errorResponses },
      },
    },
    async (request) =>
      services.settings.putPoint(
        request.params.siteId,
        request.params.pointCode,
        request.body,
        principalOf(request),
      ),
  )
}
