import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import {
  type AlertChange,
  alertEventSchema,
  alertSchema,
  alertStateSchema,
  type Transition,
} from '../../domain/alert.js'
import { SitewardError } from '../../domain/errors.js'
import { severitySchema } from '../../domain/rules.js'
import { principalOf } from '../auth.js'
import type { ApiServices } from '../services.js'
import { bearer, errorResponses, errorSchema } from './schemas.js'

const idParams = z.object({ id: z.string().min(1).max(64) })
const note = z.string().max(2_000).optional()
const timeSchema = z.iso.datetime({ offset: true }).transform((text) => Date.parse(text))
const heartbeatMs = 15_000

const listQuery = z.strictObject({
  siteId: z.string().max(64).optional(),
  deviceId: z.string().max(64).optional(),
  ruleId: z.string().max(64).optional(),
  state: alertStateSchema.optional(),
  severity: severitySchema.optional(),
  from: timeSchema.optional(),
  to: timeSchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(64).optional(),
})

const conflictResponses = { ...errorResponses, 409: errorSchema, 412: errorSchema }

/** `If-Match: 4`, `"4"` or `W/"4"` (CONTRACT §5.1); absent = no precondition. */
function expectedVersion(request: FastifyRequest): number | undefined {
  const header = request.headers['if-match']
  if (header === undefined) return undefined
  const match = /^(?:W\/)?"?(\d+)"?$/.exec(String(header).trim())
  if (match === null)
    throw new SitewardError('VALIDATION_FAILED', 'If-Match: expected the alert version, e.g. If-Match: 4')
  return Number(match[1])
}

const revocationCheckMs = 1_000

/** The alert routes of CONTRACT §5.1 and the live stream. */
export function alertRoutes(app: FastifyInstance, services: ApiServices): void {
  const api = app.withTypeProvider<ZodTypeProvider>()
  const { alerts } = services
  const openStreams = new Set<{ end(): void }>()
  // Streams never end by themselves: end them when the server shuts down, or close() would wait.
  app.addHook('preClose', async () => {
    for (const stream of openStreams) stream.end()
  })

  api.get(
    '/api/alerts',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Alerts in your scope, newest first, with filters and a cursor',
        security: bearer,
        querystring: listQuery,
        response: {
          200: z.object({ items: z.array(alertSchema), nextCursor: z.string().nullable() }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query
      return alerts.list(principalOf(request), filter, limit, cursor)
    },
  )

  app.get(
    '/api/alerts/stream',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Server-Sent Events: every alert change you may see; resume with Last-Event-ID',
        description:
          'Each message is `event: alert`, `id: <timeline event seq>`, `data: {"event": AlertEvent, "alert": Alert}`. Browsers that cannot send headers may pass `?access_token=`.',
        security: bearer,
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      const lastEventId = Number(
        request.headers['last-event-id'] ??
          (request.query as { lastEventId?: string }).lastEventId ??
          Number.NaN,
      )
      reply.hijack()
      const out = reply.raw
      out.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      })
      out.write(': siteward alert stream\n\n')
      // Live changes arriving while the history after Last-Event-ID is read wait behind it; an
      // event is sent once, in seq order, whichever of the two brings it first.
      let lastSentSeq = -1
      const send = (change: { alert: unknown; events: readonly { seq: number }[] }) => {
        if (out.writableEnded) return // ended (a revoked token) before the close came
        for (const event of change.events) {
          if (event.seq <= lastSentSeq) continue
          lastSentSeq = event.seq
          out.write(
            `id: ${event.seq}\nevent: alert\ndata: ${JSON.stringify({ event, alert: change.alert })}\n\n`,
          )
        }
      }
      const resuming = Number.isInteger(lastEventId) && lastEventId >= 0
      let waiting: AlertChange[] | null = resuming ? [] : null
      // Whether the caller may see a change is a store read: the changes wait for each other's
      // answer, so they are sent in the order they came.
      let inOrder: Promise<unknown> = Promise.resolve()
      const subscription = services.alertChanges.subscribe((change) => {
        inOrder = inOrder
          .then(async () => {
            if (!(await alerts.visible(principal, change.alert.siteId))) return
            if (waiting !== null) waiting.push(change)
            else send(change)
          })
          .catch((error: unknown) => request.log.error({ err: error }, 'could not send an alert change'))
      })
      const heartbeat = setInterval(() => out.writableEnded || out.write(': ping\n\n'), heartbeatMs)
      // A revoked token's stream ends within a second, not at the next reconnect.
      const revocation = setInterval(() => {
        services.registry.isTokenActive(principal.tokenId).then(
          (active) => active || out.end(),
          (error: unknown) =>
            request.log.error({ err: error }, 'checking the stream token failed; will retry'),
        )
      }, revocationCheckMs)
      const stream = { end: () => out.end() }
      openStreams.add(stream)
      request.raw.on('close', () => {
        clearInterval(heartbeat)
        clearInterval(revocation)
        subscription.unsubscribe()
        openStreams.delete(stream)
      })
      if (!resuming) return
      lastSentSeq = lastEventId
      try {
        for (const change of await alerts.changesAfter(lastEventId, principal)) send(change)
        for (const change of waiting ?? []) send(change)
      } catch (error) {
        // The browser reconnects with the last id it got and resumes from there.
        request.log.error({ err: error }, 'reading the alert history for a resumed stream failed')
        out.end()
      } finally {
        waiting = null
      }
    },
  )

  api.get(
    '/api/alerts/:id',
    {
      schema: {
        tags: ['alerts'],
        summary: 'One alert',
        security: bearer,
        params: idParams,
        response: { 200: alertSchema, ...errorResponses },
      },
    },
    async (request) => alerts.get(request.params.id, principalOf(request)),
  )

  api.get(
    '/api/alerts/:id/events',
    {
      schema: {
        tags: ['alerts'],
        summary: "The alert's append-only timeline; each event carries the hash of the one before",
        security: bearer,
        params: idParams,
        response: { 200: z.object({ items: z.array(alertEventSchema) }), ...errorResponses },
      },
    },
    async (request) => ({ items: await alerts.events(request.params.id, principalOf(request)) }),
  )

  api.get(
    '/api/alerts/:id/verify',
    {
      schema: {
        tags: ['alerts'],
        summary: "Recomputes the timeline's hash chain: valid, or the first event that was altered",
        security: bearer,
        params: idParams,
        response: {
          200: z.object({ valid: z.boolean(), events: z.number(), brokenAtSeq: z.number().nullable() }),
          ...errorResponses,
        },
      },
    },
    async (request) => alerts.verify(request.params.id, principalOf(request)),
  )

  const step = (path: string, summary: string, body: z.ZodType, toTransition: (body: never) => Transition) =>
    api.post(
      `/api/alerts/:id/${path}`,
      {
        schema: {
          tags: ['alerts'],
          summary: `${summary}. If-Match: <version> guards against acting on a stale view (412); repeating a step that already happened returns 200 unchanged.`,
          security: bearer,
          params: idParams,
          body,
          headers: z.object({ 'if-match': z.string().optional() }),
          response: { 200: alertSchema, ...conflictResponses },
        },
      },
      async (request) => {
        const params = request.params as { id: string }
        const { alert } = await alerts.transition(
          params.id,
          toTransition(request.body as never),
          principalOf(request),
          expectedVersion(request),
        )
        return alert
      },
    )

  step(
    'acknowledge',
    'open → acknowledged: someone owns it',
    z.strictObject({ note }),
    (body: { note?: string }) => ({
      action: 'acknowledge',
      note: body.note ?? null,
    }),
  )
  step(
    'resolve',
    'acknowledged → resolved, with the action taken',
    z.strictObject({ action: z.string().min(1).max(2_000), note }),
    (body: { action: string; note?: string }) => ({
      action: 'resolve',
      resolution: body.action,
      note: body.note ?? null,
    }),
  )
  step(
    'close',
    'resolved → closed by a supervisor, only once the condition has cleared',
    z.strictObject({ note }),
    (body: { note?: string }) => ({
      action: 'close',
      note: body.note ?? null,
    }),
  )

  api.post(
    '/api/alerts/:id/comments',
    {
      schema: {
        tags: ['alerts'],
        summary: 'A comment on the timeline, in any state',
        security: bearer,
        params: idParams,
        body: z.strictObject({ text: z.string().min(1).max(4_000) }),
        response: { 201: alertEventSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { events } = await alerts.comment(request.params.id, principalOf(request), request.body.text)
      const [event] = events
      if (event === undefined) throw new SitewardError('INTERNAL_ERROR', 'the comment was not recorded')
      return reply.code(201).send(event)
    },
  )
}
