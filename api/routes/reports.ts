import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { SitewardError } from '../../domain/errors.js'
import type { Device, Principal } from '../../domain/registry.js'
import {
  buildSummary,
  type DeviceFigures,
  deviceFigures,
  type Grouping,
  groupings,
} from '../../domain/report.js'
import { siteFilter } from '../../domain/scope.js'
import { principalOf } from '../auth.js'
import type { ApiServices } from '../services.js'
import { incidentFilter, incidentFilterFields } from './incidents.js'
import { bearer, errorResponses } from './schemas.js'

const timeText = z.iso.datetime({ offset: true })
const maxPeriodMs = 366 * 86_400_000

const summaryQuery = z.strictObject({
  from: timeText,
  to: timeText,
  groupBy: z.enum(groupings).default('site'),
  /** Where days begin for groupBy=day: minutes east of UTC (China Standard Time: 480). */
  utcOffsetMinutes: z.coerce.number().int().min(-720).max(840).default(480),
  region: incidentFilterFields.region,
  siteId: incidentFilterFields.siteId,
  deviceId: incidentFilterFields.deviceId,
  ruleId: incidentFilterFields.ruleId,
  severity: incidentFilterFields.severity,
})

const percentilesSchema = z.object({
  n: z.number(),
  p50Ms: z.number().nullable(),
  p90Ms: z.number().nullable(),
})
const groupSchema = z.object({
  key: z.string(),
  monitoring: z
    .object({
      devices: z.number(),
      onlineNow: z.number(),
      onlineRatio: z.number().nullable(),
      readingsReceived: z.number(),
      readingsExpected: z.number(),
      completeness: z.number().nullable(),
    })
    .nullable(),
  raised: z.number(),
  acknowledged: z.number(),
  resolved: z.number(),
  closed: z.number(),
  open: z.number(),
  overdue: z.number(),
  escalated: z.number(),
  retrospective: z.number(),
  acknowledgeRate: z.number().nullable(),
  closeRate: z.number().nullable(),
  timeToAcknowledge: percentilesSchema,
  timeToClose: percentilesSchema,
  repeats: z.number(),
  drillDown: z.record(z.string(), z.record(z.string(), z.string())),
})

/**
 * For groupBy site or device: every site (or device) in the caller's scope and the filter, with
 * its monitoring figures, so a silent site shows up too. Other groupings: none.
 */
async function monitoringOf(
  services: ApiServices,
  principal: Principal,
  groupBy: Grouping,
  narrow: { region?: string | undefined; siteId?: string | undefined; deviceId?: string | undefined },
  from: number,
  to: number,
): Promise<Map<string, DeviceFigures> | undefined> {
  if (groupBy !== 'site' && groupBy !== 'device') return undefined
  const scope = siteFilter(principal)
  const sites = (await services.registry.listSites({ ids: scope.ids, region: scope.region })).filter(
    (site) =>
      (narrow.region === undefined || site.region === narrow.region) &&
      (narrow.siteId === undefined || site.id === narrow.siteId),
  )
  const received = await services.monitoring.readingsPerDevice(from, to)
  const firstReadings = await services.monitoring.firstReadingAt()
  const figures = (devices: Device[]) =>
    deviceFigures(
      devices,
      received,
      (device) => services.monitoring.expectedIntervalMs(device),
      { from, to },
      firstReadings,
    )
  const result = new Map<string, DeviceFigures>()
  for (const site of sites) {
    const devices = (await services.registry.listDevices(site.id)).filter(
      (device) => narrow.deviceId === undefined || device.id === narrow.deviceId,
    )
    if (groupBy === 'site') result.set(site.id, figures(devices))
    else for (const device of devices) result.set(device.id, figures([device]))
  }
  return result
}

/** `GET /api/reports/summary`: the closed loop in figures, per group, each one drillable. */
export function reportRoutes(app: FastifyInstance, services: ApiServices): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/reports/summary',
    {
      schema: {
        tags: ['reports'],
        summary:
          'Per site, rule, severity, device or day: alerts raised in [from, to) and what became of them — counts, acknowledge and close rates, p50/p90 times (nearest rank), overdue, escalated, repeats; drillDown gives the /api/incidents query behind each figure',
        security: bearer,
        querystring: summaryQuery,
        response: {
          200: z.object({
            from: z.string(),
            to: z.string(),
            groupBy: z.enum(groupings),
            generatedAt: z.string(),
            groups: z.array(groupSchema),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { from, to, groupBy, utcOffsetMinutes, ...narrow } = request.query
      const fromMs = Date.parse(from)
      const toMs = Date.parse(to)
      if (!(fromMs < toMs) || toMs - fromMs > maxPeriodMs)
        throw new SitewardError(
          'VALIDATION_FAILED',
          'from must be before to, and the period at most 366 days',
        )
      const now = Date.now()
      const filter = incidentFilter({ ...narrow, from: fromMs, to: toMs }, services.escalation, now)
      const principal = principalOf(request)
      const tallies = await services.alerts.reportTallies(principal, filter, {
        groupBy,
        utcOffsetMinutes,
        now,
        policy: services.escalation,
      })
      const base = Object.fromEntries(
        Object.entries({
          ...narrow,
          from: new Date(fromMs).toISOString(),
          to: new Date(toMs).toISOString(),
        }).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      )
      return {
        from: base.from as string,
        to: base.to as string,
        groupBy,
        generatedAt: new Date(now).toISOString(),
        groups: buildSummary(tallies, {
          groupBy,
          utcOffsetMinutes,
          base,
          monitoring: await monitoringOf(services, principal, groupBy, narrow, fromMs, toMs),
        }),
      }
    },
  )
}
