import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { type Alert, type AlertFilter, alertSchema, alertStateSchema } from '../../domain/alert.js'
import type { EscalationPolicy } from '../../domain/escalation.js'
import type { Principal, Site } from '../../domain/registry.js'
import { severitySchema } from '../../domain/rules.js'
import { principalOf } from '../auth.js'
import { csvRow, utf8Bom } from '../csv.js'
import type { ApiServices } from '../services.js'
import { bearer, errorResponses } from './schemas.js'

const timeSchema = z.iso.datetime({ offset: true }).transform((text) => Date.parse(text))
const flag = z.enum(['true', 'false']).transform((text) => text === 'true')

/** The incidents filter (CONTRACT §5.1), shared by the list, the CSV and the report drill-downs. */
export const incidentFilterFields = {
  region: z.string().max(32).optional(),
  siteId: z.string().max(64).optional(),
  deviceId: z.string().max(64).optional(),
  ruleId: z.string().max(64).optional(),
  severity: severitySchema.optional(),
  state: alertStateSchema.optional(),
  condition: z.enum(['active', 'cleared']).optional(),
  retrospective: flag.optional(),
  escalated: flag.optional(),
  reached: z.enum(['acknowledged', 'resolved', 'closed']).optional(),
  open: z.literal('true').optional(),
  overdue: z.literal('true').optional(),
  /** Raised at or after (engine time). */
  from: timeSchema.optional(),
  /** Raised before. */
  to: timeSchema.optional(),
}
const listQuery = z.strictObject({
  ...incidentFilterFields,
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
  cursor: z.string().max(64).optional(),
})
const csvQuery = z.strictObject(incidentFilterFields)
type IncidentQuery = z.infer<typeof csvQuery>

export function incidentFilter(query: IncidentQuery, policy: EscalationPolicy, now: number): AlertFilter {
  return {
    inRegion: query.region,
    siteId: query.siteId,
    deviceId: query.deviceId,
    ruleId: query.ruleId,
    severity: query.severity,
    state: query.state,
    condition: query.condition,
    retrospective: query.retrospective,
    escalated: query.escalated,
    reached: query.reached,
    notClosed: query.open === 'true' ? true : undefined,
    overdue: query.overdue === 'true' ? { now, policy } : undefined,
    raisedFrom: query.from,
    raisedTo: query.to,
  }
}

const csvHeader = [
  'id',
  'region',
  'site_id',
  'site_name',
  'device_id',
  'rule_id',
  'subject',
  'severity',
  'state',
  'condition',
  'value',
  'peak_value',
  'threshold',
  'threshold_origin',
  'count',
  'raised_at',
  'first_at',
  'last_at',
  'cleared_at',
  'escalation_level',
  'retrospective',
  'acknowledged_by',
  'acknowledged_at',
  'acknowledged_note',
  'resolved_by',
  'resolved_at',
  'resolved_action',
  'resolved_note',
  'closed_by',
  'closed_at',
  'closed_note',
]

const csvRowOf = (alert: Alert, site: Site | undefined) =>
  csvRow([
    alert.id,
    site?.region,
    alert.siteId,
    site?.name,
    alert.deviceId,
    alert.ruleId,
    alert.subject,
    alert.severity,
    alert.state,
    alert.condition,
    alert.value,
    alert.peakValue,
    alert.threshold,
    alert.thresholdOrigin,
    alert.count,
    alert.raisedAt,
    alert.firstAt,
    alert.lastAt,
    alert.clearedAt,
    alert.escalationLevel,
    alert.retrospective,
    alert.acknowledged?.by,
    alert.acknowledged?.at,
    alert.acknowledged?.note,
    alert.resolved?.by,
    alert.resolved?.at,
    alert.resolved?.action,
    alert.resolved?.note,
    alert.closed?.by,
    alert.closed?.at,
    alert.closed?.note,
  ])

/** `GET /api/incidents` and `GET /api/incidents.csv`: every state, across the caller's scope. */
export function incidentRoutes(app: FastifyInstance, services: ApiServices): void {
  const api = app.withTypeProvider<ZodTypeProvider>()
  api.get(
    '/api/incidents',
    {
      schema: {
        tags: ['incidents'],
        summary:
          'Incident history: alerts in every state across your scope (a regulator: its region), newest first, with filters and a cursor',
        security: bearer,
        querystring: listQuery,
        response: {
          200: z.object({ items: z.array(alertSchema), nextCursor: z.string().nullable() }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { limit, cursor, ...query } = request.query
      const filter = incidentFilter(query, services.escalation, Date.now())
      return services.alerts.list(principalOf(request), filter, limit, cursor)
    },
  )

  api.get(
    '/api/incidents.csv',
    {
      schema: {
        tags: ['incidents'],
        summary:
          'The same query as /api/incidents, as CSV (UTF-8 with BOM, a header row, one row per alert), streamed',
        security: bearer,
        querystring: csvQuery,
        produces: ['text/csv'],
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      const filter = incidentFilter(request.query, services.escalation, Date.now())
      const day = new Date().toISOString().slice(0, 10)
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="siteward-incidents-${day}.csv"`)
      return reply.send(Readable.from(csvLines(services, principal, filter)))
    },
  )
}

/** The CSV in pages of 1,000 alerts: memory stays flat however long the history. */
async function* csvLines(
  services: ApiServices,
  principal: Principal,
  filter: AlertFilter,
): AsyncGenerator<string> {
  const sites = new Map<string, Site | undefined>()
  const siteOf = async (id: string) => {
    if (!sites.has(id)) sites.set(id, await services.registry.getSite(id))
    return sites.get(id)
  }
  yield utf8Bom + csvRow(csvHeader)
  let cursor: string | undefined
  do {
    const page = await services.alerts.list(principal, filter, 1_000, cursor)
    const rows: string[] = []
    for (const alert of page.items) rows.push(csvRowOf(alert, await siteOf(alert.siteId)))
    yield rows.join('')
    cursor = page.nextCursor ?? undefined
    await new Promise((resolve) => setImmediate(resolve)) // let other requests in between pages
  } while (cursor !== undefined)
}
