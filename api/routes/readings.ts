import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { principalOf } from '../auth.js'
import type { ApiServices } from '../services.js'
import { bearer, errorResponses } from './schemas.js'

/** Manual and semi-automatic readings (CONTRACT §5.1). */
export function readingRoutes(app: FastifyInstance, services: ApiServices): void {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/api/sites/:siteId/readings',
    {
      schema: {
        tags: ['readings'],
        summary:
          "Submit readings by hand: { deviceId, channel?, ...the payload fields of the device's kind }, or an array",
        description:
          'Validated exactly as MQTT payloads (CONTRACT §2.1), evaluated by the same rules, recorded with who entered them and stored with source=manual. Valid objects are accepted and refused ones listed; 400 when none was accepted.',
        security: bearer,
        params: z.object({ siteId: z.string().min(1).max(64) }),
        body: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]),
        response: {
          201: z.object({
            accepted: z.number(),
            duplicates: z.number(),
            rejected: z.array(z.object({ index: z.number(), reason: z.string() })),
          }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const result = await services.readings.submit(request.params.siteId, principalOf(request), request.body)
      return reply.code(201).send({ ...result, rejected: [...result.rejected] })
    },
  )
}
