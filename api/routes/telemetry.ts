import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { SitewardError } from '../../domain/errors.js'
import { craneMetricNames } from '../../domain/payloads.js'
import type { TelemetryQuery } from '../../domain/ports.js'
import type { DeviceKind } from '../../domain/registry.js'
import { canSeeSite } from '../../domain/scope.js'
import { principalOf } from '../auth.js'
import type { ApiServices } from '../services.js'
import { bearer, errorResponses } from './schemas.js'

export const pitMetrics = ['value', 'cumulative', 'rate_per_day'] as const
const statusMetrics = ['signalCsq', 'powerV'] as const
const unitsMs: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const defaultWindowMs = 3_600_000

/** "500ms", "30s", "5m", "1h", "1d". */
const durationSchema = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as 30s, 5m, 1h or 1d')
  .transform((text) => {
    const [, amount = '0', unit = 'ms'] = /^(\d+)(ms|s|m|h|d)$/.exec(text) ?? []
    return Number(amount) * (unitsMs[unit] ?? 1)
  })
  .refine((ms) => ms >= 1_000, 'at least 1s')

const timeSchema = z.iso.datetime({ offset: true }).transform((text) => Date.parse(text))

const querySchema = z.strictObject({
  metric: z.string().min(1).max(64),
  from: timeSchema.optional(),
  to: timeSchema.optional(),
  every: durationSchema.optional(),
  point: z.string().min(1).max(64).optional(),
  /** One depth of an inclinometer point. */
  depth: z.coerce.number().nonnegative().optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
})

const responseSchema = z.object({
  deviceId: z.string(),
  metric: z.string(),
  measurement: z.string(),
  from: z.string(),
  to: z.string(),
  everyMs: z.number().nullable(),
  series: z.array(
    z.object({
      tags: z.record(z.string(), z.string()),
      points: z.array(
        z.object({ ts: z.string(), value: z.union([z.number(), z.string(), z.boolean()]).nullable() }),
      ),
    }),
  ),
})

/**
 * Which measurement holds a metric for a kind of device (CONTRACT §3), and how it splits into
 * series: readings typed by hand (tag source=manual) are always a series of their own, so no
 * chart passes them off as the device's.
 */
export function measurementFor(
  kind: DeviceKind,
  metric: string,
): { measurement: string; groupBy: string[] } | undefined {
  const isOneOf = (names: readonly string[]) => names.includes(metric)
  if (kind === 'crane' && isOneOf(craneMetricNames)) return { measurement: 'crane', groupBy: ['source'] }
  if (kind === 'pit' && isOneOf(pitMetrics))
    return { measurement: 'pit', groupBy: ['point', 'item', 'depth', 'source'] }
  if (isOneOf(statusMetrics)) return { measurement: 'device_status', groupBy: ['source'] }
  return undefined
}

export function telemetryRoutes(app: FastifyInstance, services: ApiServices): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/devices/:deviceId/telemetry',
    {
      schema: {
        tags: ['telemetry'],
        summary: 'Stored telemetry of one device, raw or as the mean per window (`every`)',
        description: `Crane metrics: ${craneMetricNames.join(', ')}. Pit metrics: ${pitMetrics.join(', ')} (one series per point and inclinometer depth; \`point\` and \`depth\` filter). Any device (status): ${statusMetrics.join(', ')}. Readings typed by hand (POST /api/sites/{siteId}/readings) are a series of their own, tagged \`source: manual\`. Default window: the last hour.`,
        security: bearer,
        params: z.object({ deviceId: z.string().min(1).max(64) }),
        querystring: querySchema,
        response: { 200: responseSchema, ...errorResponses, 503: errorResponses[400] },
      },
    },
    async (request) => {
      const { registry, telemetry } = services
      const device = await registry.getDevice(request.params.deviceId)
      const site = device === undefined ? undefined : await registry.getSite(device.siteId)
      if (device === undefined || site === undefined || !canSeeSite(principalOf(request), site)) {
        throw new SitewardError('DEVICE_NOT_FOUND', `no device ${request.params.deviceId} in your scope`)
      }
      const { metric, every, point, limit } = request.query
      const target = measurementFor(device.kind, metric)
      if (target === undefined)
        throw new SitewardError(
          'VALIDATION_FAILED',
          `querystring.metric: ${metric} is not a metric of ${device.kind} devices`,
        )
      const to = request.query.to ?? Date.now()
      const from = request.query.from ?? to - defaultWindowMs
      if (from >= to) throw new SitewardError('VALIDATION_FAILED', 'querystring.from: must be before to')
      const where: Record<string, string> = { site: site.id, device: device.id }
      if (point !== undefined) where.point = point
      if (request.query.depth !== undefined) where.depth = String(request.query.depth)
      const query: TelemetryQuery = { ...target, field: metric, where, from, to, everyMs: every, limit }
      let series: Awaited<ReturnType<typeof telemetry.query>>
      try {
        series = await telemetry.query(query)
      } catch (error) {
        request.log.warn({ err: error }, 'telemetry query failed')
        throw new SitewardError('TELEMETRY_UNAVAILABLE')
      }
      return {
        deviceId: device.id,
        metric,
        measurement: target.measurement,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        everyMs: every ?? null,
        series: series.map((one) => ({
          // A point without depths has an empty depth tag: leave it out.
          tags: Object.fromEntries(Object.entries(one.tags).filter(([, value]) => value !== '')),
          points: one.points.map((p) => ({ ts: new Date(p.ts).toISOString(), value: p.value })),
        })),
      }
    },
  )
  profileRoute(app, services)
}

const profileLookbackMs = 7 * 86_400_000

/**
 * `GET /api/devices/{deviceId}/profile`: an inclinometer point's newest reading at each depth up
 * to `at` (within the week before it): the displacement profile down the wall.
 */
function profileRoute(app: FastifyInstance, services: ApiServices): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/devices/:deviceId/profile',
    {
      schema: {
        tags: ['telemetry'],
        summary: "An inclinometer point's profile: the newest reading at each depth up to `at`",
        description: `Pit metrics: ${pitMetrics.join(', ')} (default cumulative). Depths read in the week before \`at\` (default now).`,
        security: bearer,
        params: z.object({ deviceId: z.string().min(1).max(64) }),
        querystring: z.strictObject({
          point: z.string().min(1).max(64),
          metric: z.enum(pitMetrics).default('cumulative'),
          at: timeSchema.optional(),
        }),
        response: {
          200: z.object({
            deviceId: z.string(),
            point: z.string(),
            metric: z.string(),
            at: z.string(),
            depths: z.array(z.object({ depthM: z.number(), ts: z.string(), value: z.number().nullable() })),
          }),
          ...errorResponses,
          503: errorResponses[400],
        },
      },
    },
    async (request) => {
      const { registry, telemetry } = services
      const device = await registry.getDevice(request.params.deviceId)
      const site = device === undefined ? undefined : await registry.getSite(device.siteId)
      if (device === undefined || site === undefined || !canSeeSite(principalOf(request), site))
        throw new SitewardError('DEVICE_NOT_FOUND', `no device ${request.params.deviceId} in your scope`)
      if (device.kind !== 'pit')
        throw new SitewardError(
          'VALIDATION_FAILED',
          `params.deviceId: ${device.id} is a ${device.kind}, not a pit monitor`,
        )
      const { point, metric } = request.query
      const at = request.query.at ?? Date.now()
      let series: Awaited<ReturnType<typeof telemetry.query>>
      try {
        series = await telemetry.query({
          measurement: 'pit',
          field: metric,
          where: { site: site.id, device: device.id, point },
          groupBy: ['depth'],
          from: at - profileLookbackMs,
          to: at + 1,
          limit: 1,
          newestFirst: true,
        })
      } catch (error) {
        request.log.warn({ err: error }, 'telemetry query failed')
        throw new SitewardError('TELEMETRY_UNAVAILABLE')
      }
      const depths = series
        .filter((one) => (one.tags.depth ?? '') !== '' && one.points[0] !== undefined)
        .map((one) => {
          const newest = one.points[0] as { ts: number; value: unknown }
          return {
            depthM: Number(one.tags.depth),
            ts: new Date(newest.ts).toISOString(),
            value: typeof newest.value === 'number' ? newest.value : null,
          }
        })
        .sort((a, b) => a.depthM - b.depthM)
      return { deviceId: device.id, point, metric, at: new Date(at).toISOString(), depths }
    },
  )
}
