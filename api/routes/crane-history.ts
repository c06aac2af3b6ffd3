import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { type CycleRecord, craneHistory } from '../../domain/crane-history.js'
import { SitewardError } from '../../domain/errors.js'
import type { TelemetryQuery, TelemetrySeries } from '../../domain/ports.js'
import { canSeeSite } from '../../domain/scope.js'
import { principalOf } from '../auth.js'
import type { ApiServices } from '../services.js'
import { bearer, errorResponses } from './schemas.js'

const maxPeriodMs = 92 * 86_400_000
const maxCycles = 50_000

const operatorSchema = z.object({ operatorId: z.string(), cycles: z.number(), overloadCycles: z.number() })
const daySchema = z.object({
  day: z.string(),
  cycles: z.number(),
  overloadCycles: z.number(),
  violationCycles: z.number(),
  maxLoadT: z.number().nullable(),
  maxMomentPct: z.number().nullable(),
  operators: z.array(operatorSchema),
})

/** `GET /api/devices/{deviceId}/cycles`: a crane's work history from its `cycle` records. */
export function craneHistoryRoutes(app: FastifyInstance, services: ApiServices): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/devices/:deviceId/cycles',
    {
      schema: {
        tags: ['telemetry'],
        summary:
          'Work cycles of a crane per day: lifts, overload lifts (moment over 100 %), lifts with violations, the heaviest lift, and the operators involved',
        security: bearer,
        params: z.object({ deviceId: z.string().min(1).max(64) }),
        querystring: z.strictObject({
          from: z.iso.datetime({ offset: true }),
          to: z.iso.datetime({ offset: true }),
          utcOffsetMinutes: z.coerce.number().int().min(-720).max(840).default(480),
        }),
        response: {
          200: z.object({ deviceId: z.string(), from: z.string(), to: z.string(), days: z.array(daySchema) }),
          ...errorResponses,
          503: errorResponses[400],
        },
      },
    },
    async (request) => {
      const device = await services.registry.getDevice(request.params.deviceId)
      const site = device === undefined ? undefined : await services.registry.getSite(device.siteId)
      if (device === undefined || site === undefined || !canSeeSite(principalOf(request), site))
        throw new SitewardError('DEVICE_NOT_FOUND', `no device ${request.params.deviceId} in your scope`)
      if (device.kind !== 'crane') throw new SitewardError('VALIDATION_FAILED', `${device.id} is not a crane`)
      const from = Date.parse(request.query.from)
      const to = Date.parse(request.query.to)
      if (!(from < to) || to - from > maxPeriodMs)
        throw new SitewardError('VALIDATION_FAILED', 'from must be before to, and the period at most 92 days')
      const field = (name: string): TelemetryQuery => ({
        measurement: 'crane_cycle',
        field: name,
        where: { site: site.id, device: device.id },
        groupBy: [],
        from,
        to,
        limit: maxCycles,
      })
      let results: TelemetrySeries[][]
      try {
        results = await Promise.all(
          ['operator', 'maxLoadT', 'maxMomentPct', 'violations'].map((name) =>
            services.telemetry.query(field(name)),
          ),
        )
      } catch (error) {
        request.log.warn({ err: error }, 'telemetry query failed')
        throw new SitewardError('TELEMETRY_UNAVAILABLE')
      }
      // One record per lift, joined on its timestamp (each field is its own series in the store).
      const lifts = new Map<
        number,
        {
          operatorId: string | null
          maxLoadT: number | null
          maxMomentPct: number | null
          violations: string[]
        }
      >()
      const liftAt = (ts: number) => {
        let lift = lifts.get(ts)
        if (lift === undefined) {
          lift = { operatorId: null, maxLoadT: null, maxMomentPct: null, violations: [] }
          lifts.set(ts, lift)
        }
        return lift
      }
      const [operators, loads, moments, violations] = results.map((series) => series[0]?.points ?? [])
      for (const p of operators ?? []) liftAt(p.ts).operatorId = typeof p.value === 'string' ? p.value : null
      for (const p of loads ?? []) liftAt(p.ts).maxLoadT = typeof p.value === 'number' ? p.value : null
      for (const p of moments ?? []) liftAt(p.ts).maxMomentPct = typeof p.value === 'number' ? p.value : null
      for (const p of violations ?? [])
        liftAt(p.ts).violations = typeof p.value === 'string' && p.value !== '' ? p.value.split(',') : []
      const cycles: CycleRecord[] = [...lifts.entries()].map(([ts, lift]) => ({ ts, ...lift }))
      return {
        deviceId: device.id,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        days: craneHistory(cycles, request.query.utcOffsetMinutes),
      }
    },
  )
}
