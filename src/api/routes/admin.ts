import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import {
  deviceInputSchema,
  deviceKindSchema,
  roleSchema,
  siteInputSchema,
  siteSchema,
  tokenInputSchema,
} from '../../domain/registry.js'
import { requireRole } from '../../domain/scope.js'
import { principalOf } from '../auth.js'
import type { ApiServices } from '../services.js'
import { bearer, errorResponses, errorSchema } from './schemas.js'

const provisionedDeviceSchema = z.object({
  siteId: z.string(),
  deviceId: z.string(),
  kind: deviceKindSchema,
  secret: z.string(),
})
const issuedTokenSchema = z.object({
  id: z.string(),
  token: z.string(),
  role: roleSchema,
  name: z.string(),
  sites: z.array(z.string()),
  region: z.string().nullable(),
})

/** Admin provisioning (CONTRACT §5.1); secrets and tokens appear once, in these responses. */
export function adminRoutes(app: FastifyInstance, services: ApiServices): void {
  const api = app.withTypeProvider<ZodTypeProvider>()
  const { provisioning } = services

  api.post(
    '/api/sites',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create or update a site',
        security: bearer,
        body: siteInputSchema,
        response: { 201: siteSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), ['admin'], 'provision sites')
      return reply.code(201).send(provisioning.addSite(request.body))
    },
  )

  api.post(
    '/api/devices',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create a device; its secret is shown once',
        security: bearer,
        body: deviceInputSchema,
        response: { 201: provisionedDeviceSchema, ...errorResponses, 409: errorSchema },
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), ['admin'], 'provision devices')
      const { device, secret } = provisioning.addDevice(request.body)
      return reply.code(201).send({ siteId: device.siteId, deviceId: device.id, kind: device.kind, secret })
    },
  )

  api.post(
    '/api/tokens',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create an API token; shown once',
        security: bearer,
        body: tokenInputSchema,
        response: { 201: issuedTokenSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), ['admin'], 'create tokens')
      const issued = provisioning.createToken(request.body)
      return reply.code(201).send({ ...issued, sites: [...issued.sites] })
    },
  )
}
