import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import {
  deviceInputSchema,
  deviceKindSchema,
  deviceSchema,
  roleSchema,
  siteInputSchema,
  siteSchema,
  tokenInputSchema,
  tokenSummarySchema,
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
const deviceParams = z.object({ deviceId: z.string().min(1).max(64) })
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
  const { provisioning, access } = services

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
      return reply.code(201).send(await provisioning.addSite(request.body))
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
      const { device, secret } = await provisioning.addDevice(request.body)
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
      const issued = await provisioning.createToken(request.body)
      return reply.code(201).send({ ...issued, sites: [...issued.sites] })
    },
  )

  api.get(
    '/api/tokens',
    {
      schema: {
        tags: ['admin'],
        summary:
          'Every API token: who, which role and scope, when created and revoked (never the token itself)',
        security: bearer,
        response: { 200: z.object({ items: z.array(tokenSummarySchema) }), ...errorResponses },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin'], 'list tokens')
      return { items: await access.listTokens() }
    },
  )

  api.post(
    '/api/tokens/:tokenId/revoke',
    {
      schema: {
        tags: ['admin'],
        summary:
          'Revoke a token for good: its requests get 401 and its open alert streams end within a second',
        security: bearer,
        params: z.object({ tokenId: z.string().min(1).max(64) }),
        response: { 200: tokenSummarySchema, ...errorResponses },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin'], 'revoke tokens')
      return access.revokeToken(request.params.tokenId)
    },
  )

  for (const [action, enabled] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
    api.post(
      `/api/devices/:deviceId/${action}`,
      {
        schema: {
          tags: ['admin'],
          summary: enabled
            ? 'Let a disabled device log in again'
            : 'Disable a device: its logins are refused (CONNACK 5) and its connection closes at once; its data and alerts stay',
          security: bearer,
          params: deviceParams,
          response: { 200: deviceSchema, ...errorResponses },
        },
      },
      async (request) => {
        requireRole(principalOf(request), ['admin'], `${action} devices`)
        return access.setDeviceEnabled(request.params.deviceId, enabled)
      },
    )
  }

  api.post(
    '/api/devices/:deviceId/secret',
    {
      schema: {
        tags: ['admin'],
        summary:
          "Give a device a new secret, shown once; the old one stops working and the device's connection closes",
        security: bearer,
        params: deviceParams,
        response: { 200: provisionedDeviceSchema, ...errorResponses },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin'], 'rotate device secrets')
      const { device, secret } = await access.rotateSecret(request.params.deviceId)
      return { siteId: device.siteId, deviceId: device.id, kind: device.kind, secret }
    },
  )
}
