import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ApiServices } from '../services.js'

const checkSchema = z.object({ name: z.string(), ok: z.boolean(), detail: z.string() })

/** Liveness, readiness (broker listening, store writable, telemetry reachable or spooling), metrics. */
export function healthRoutes(app: FastifyInstance, services: ApiServices): void {
  const api = app.withTypeProvider<ZodTypeProvider>()
  api.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness',
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({
      status: 'ok' as const,
    }),
  )

  api.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: broker listening, store writable, telemetry store reachable or spooling',
        response: {
          200: z.object({ status: z.literal('ready'), checks: z.array(checkSchema) }),
          503: z.object({ status: z.literal('not_ready'), checks: z.array(checkSchema) }),
        },
      },
    },
    async (_request, reply) => {
      const checks = [...(await services.readiness())]
      if (checks.every((check) => check.ok)) return reply.code(200).send({ status: 'ready' as const, checks })
      return reply.code(503).send({ status: 'not_ready' as const, checks })
    },
  )

  app.get(
    '/metrics',
    { schema: { tags: ['health'], summary: 'Prometheus metrics (text exposition format)' } },
    async (_request, reply) => {
      void reply.header('content-type', services.metrics.contentType)
      return services.metrics.render()
    },
  )
}
