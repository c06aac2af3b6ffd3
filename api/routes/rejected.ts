import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { SitewardError } from '../../domain/errors.js'
import { canSeeSite } from '../../domain/scope.js'
import { principalOf } from '../auth.js'
import type { ApiServices } from '../services.js'
import { bearer, errorResponses } from './schemas.js'

const rejectedSchema = z.object({
  id: z.number().int(),
  receivedAt: z.string(),
  topic: z.string(),
  stage: z.enum(['ingest', 'telemetry']),
  reason: z.string(),
  payload: z.string(),
})

/** What a device sent that was refused, and why (its dead letters). */
export function rejectedRoutes(app: FastifyInstance, services: ApiServices): void {
  const api = app.withTypeProvider<ZodTypeProvider>()
  api.get(
    '/api/devices/:deviceId/rejected',
    {
      schema: {
        tags: ['registry'],
        summary:
          "A device's refused messages, newest first: the reason naming each bad field, and the payload as sent (cut at 4 KiB). A device keeps at most 1,000 for 30 days, and at most 10 a minute after a burst of 20; every refusal is still counted in the device's rejectedCount.",
        security: bearer,
        params: z.object({ deviceId: z.string().min(1).max(64) }),
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          before: z.coerce.number().int().positive().optional(),
        }),
        response: {
          200: z.object({ items: z.array(rejectedSchema), nextBefore: z.number().int().nullable() }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { deviceId } = request.params
      const device = await services.registry.getDevice(deviceId)
      const site = device === undefined ? undefined : await services.registry.getSite(device.siteId)
      if (device === undefined || site === undefined || !canSeeSite(principalOf(request), site))
        throw new SitewardError('DEVICE_NOT_FOUND', `no device ${deviceId} in your scope`)
      const { limit, before } = request.query
      const letters = await services.deadLetters.list({
        deviceId,
        limit,
        ...(before === undefined ? {} : { before }),
      })
      return {
        items: letters.map((letter) => ({
          id: letter.id,
          receivedAt: new Date(letter.receivedAt).toISOString(),
          topic: letter.topic,
          stage: letter.stage,
          reason: letter.reason,
          payload: letter.payload,
        })),
        nextBefore: letters.length === limit ? (letters.at(-1)?.id ?? null) : null,
      }
    },
  )
}
