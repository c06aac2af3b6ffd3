import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Alert } from '../../domain/alert.js'
import { SitewardError } from '../../domain/errors.js'
import { parsePointSubject } from '../../domain/pit-series.js'
import type { TelemetryQuery } from '../../domain/ports.js'
import type { DeviceKind } from '../../domain/registry.js'
import { principalOf } from '../auth.js'
import type { ApiServices } from '../services.js'
import { bearer, errorResponses } from './schemas.js'
import { measurementFor } from './telemetry.js'

const marginMs = 30 * 60_000
const maxPoints = 1_000

/** The stored pit field each kind of pit rule judges (the rule id's last part). */
const pitFieldOfCheck: Readonly<Record<string, string>> = {
  cumulative: 'cumulative',
  differential: 'cumulative',
  rate: 'rate_per_day',
  value: 'value',
  min: 'value',
  max: 'value',
  collapse: 'value',
}

/** Which stored series shows an alert's subject: a crane metric, or a pit point's (depth's) value. */
function seriesOf(alert: Alert, kind: DeviceKind): { metric: string; point?: string; depth?: number } | null {
  if (kind === 'crane')
    return measurementFor('crane', alert.subject) === undefined ? null : { metric: alert.subject }
  const check = alert.ruleId.split('.')[2] ?? '' // pit.<item>.<check>
  const metric = pitFieldOfCheck[check]
  if (metric === undefined) return null
  const { pointCode, depthM } = parsePointSubject(alert.subject)
  return { metric, point: pointCode, ...(depthM === null ? {} : { depth: depthM }) }
}

/** Why the series shown is not the value the rule judged, or null when it is. */
function derivedNote(alert: Alert): string | null {
  if (alert.ruleId === 'crane.slew_sector')
    return `the slew angle; the rule judged how far inside a forbidden sector it was (${alert.peakValue}°)`
  const check = alert.ruleId.split('.')[2]
  if (check === 'collapse') return `the force; the rule judged the share of it lost (${alert.peakValue} %)`
  if (check === 'differential')
    return `the point's cumulative change; the rule judged its difference from the paired point (${alert.peakValue})`
  return null
}

/**
 * `GET /api/alerts/{id}/telemetry`: what the subject did from 30 minutes before the breach to 30
 * minutes after it cleared (or now), so a reviewer sees what happened. More than 1,000 readings
 * are summed up per window by their worst value (the maximum, or the minimum for a rule that
 * fires below its level), never the mean, which would hide a short overload.
 */
export function alertTelemetryRoutes(app: FastifyInstance, services: ApiServices): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/alerts/:id/telemetry',
    {
      schema: {
        tags: ['alerts'],
        summary:
          "The alert's readings from 30 min before the breach to 30 min after it cleared (or now), at most 1,000 points",
        security: bearer,
        params: z.object({ id: z.string().min(1).max(64) }),
        response: {
          200: z.object({
            alertId: z.string(),
            metric: z.string().nullable(),
            point: z.string().nullable(),
            from: z.string(),
            to: z.string(),
            everyMs: z.number().nullable(),
            aggregate: z.enum(['max', 'min']).nullable(),
            threshold: z.number().nullable(),
            points: z.array(
              z.object({
                ts: z.string(),
                value: z.union([z.number(), z.string(), z.boolean()]).nullable(),
                /** `manual`: typed by an officer; null for a window that may mix both. */
                source: z.enum(['device', 'manual']).nullable(),
              }),
            ),
            note: z.string().nullable(),
          }),
          ...errorResponses,
          503: errorResponses[400],
        },
      },
    },
    async (request) => {
      const alert = await services.alerts.get(request.params.id, principalOf(request))
      const device = await services.registry.getDevice(alert.deviceId)
      const from = Date.parse(alert.firstAt) - marginMs
      const to = Math.min(
        Date.now(),
        (alert.clearedAt === null ? Date.now() : Date.parse(alert.clearedAt)) + marginMs,
      )
      const target = device === undefined ? null : seriesOf(alert, device.kind)
      const base = {
        alertId: alert.id,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        // A derived value (degrees into a forbidden sector, % of force lost, a difference from the
        // paired point) is not the stored series: drawing its threshold over it would mislead.
        threshold: derivedNote(alert) === null ? alert.threshold : null,
      }
      if (device === undefined || target === null) {
        const note = 'this alert has no numeric series (a device event or a data gap)'
        return { ...base, metric: null, point: null, everyMs: null, aggregate: null, points: [], note }
      }
      const measurement = measurementFor(device.kind, target.metric)
      if (measurement === undefined) throw new SitewardError('INTERNAL_ERROR')
      const where: Record<string, string> = { site: alert.siteId, device: alert.deviceId }
      if (target.point !== undefined) where.point = target.point
      if (target.depth !== undefined) where.depth = String(target.depth)
      const query: TelemetryQuery = {
        measurement: measurement.measurement,
        groupBy: ['source'],
        field: target.metric,
        where,
        from,
        to,
        limit: maxPoints + 1,
      }
      // The raw readings when they fit; otherwise windows that keep at most 1,000 points.
      let everyMs: number | undefined
      let aggregate: 'max' | 'min' | undefined
      let series: Awaited<ReturnType<typeof services.telemetry.query>>
      try {
        series = await services.telemetry.query(query)
        if (series.reduce((sum, one) => sum + one.points.length, 0) > maxPoints) {
          everyMs = Math.ceil((to - from) / maxPoints / 1_000) * 1_000
          // A rule that fires below its level (low voltage, lost prestress) peaks under its threshold.
          const below =
            alert.peakValue !== null && alert.threshold !== null && alert.peakValue < alert.threshold
          aggregate = below ? 'min' : 'max'
          series = await services.telemetry.query({
            ...query,
            groupBy: [],
            everyMs,
            aggregate,
            limit: maxPoints,
          })
        }
      } catch (error) {
        request.log.warn({ err: error }, 'telemetry query failed')
        throw new SitewardError('TELEMETRY_UNAVAILABLE')
      }
      return {
        ...base,
        metric: target.metric,
        point: target.point ?? null,
        everyMs: everyMs ?? null,
        aggregate: aggregate ?? null,
        points: series
          .flatMap((one) => {
            const source = everyMs !== undefined ? null : one.tags.source === 'manual' ? 'manual' : 'device'
            return one.points.map((p) => ({ ts: p.ts, value: p.value, source }) as const)
          })
          .sort((a, b) => a.ts - b.ts)
          .map((p) => ({ ...p, ts: new Date(p.ts).toISOString() })),
        note: derivedNote(alert),
      }
    },
  )
}
