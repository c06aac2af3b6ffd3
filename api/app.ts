import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { Logger } from 'pino'
import { registerAuth } from './auth.js'
import { registerConsole } from './console.js'
import { registerErrorHandling } from './error-handler.js'
import { registerRateLimits, registerSecurityHeaders } from './guards.js'
import { completeOpenApi } from './openapi.js'
import { adminRoutes } from './routes/admin.js'
import { alertTelemetryRoutes } from './routes/alert-telemetry.js'
import { alertRoutes } from './routes/alerts.js'
import { craneHistoryRoutes } from './routes/crane-history.js'
import { healthRoutes } from './routes/health.js'
import { incidentRoutes } from './routes/incidents.js'
import { overrideRoutes } from './routes/overrides.js'
import { readingRoutes } from './routes/readings.js'
import { registryRoutes } from './routes/registry.js'
import { rejectedRoutes } from './routes/rejected.js'
import { reportRoutes } from './routes/reports.js'
import { ruleRoutes } from './routes/rules.js'
import { settingsRoutes } from './routes/settings.js'
import { telemetryRoutes } from './routes/telemetry.js'
import type { ApiServices } from './services.js'

/** 1 MiB: room for a batch of manual readings, far below anything that could hurt. */
const bodyLimitBytes = 1024 * 1024

/** Builds the HTTP API around the services it is given; it never reaches into storage itself. */
export interface ApiOptions {
  /** Requests per minute per client address and per token (429 beyond). */
  readonly requestsPerMinute: number
  /** Reverse proxies whose X-Forwarded-For is believed (Fastify's trustProxy). */
  readonly trustProxy?: boolean | readonly string[]
  /** Serve HTTPS with this certificate and key. */
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer } | undefined
  /** The web console's static build, served at `/`. */
  readonly consoleDir?: string | undefined
}

export async function buildApi(
  services: ApiServices,
  logger: Logger,
  options: ApiOptions,
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: bodyLimitBytes,
    forceCloseConnections: true,
    trustProxy:
      typeof options.trustProxy === 'object' ? [...options.trustProxy] : (options.trustProxy ?? false),
    // Per-request lines would drown the log of a busy engine; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    ...(options.tls === undefined ? {} : { https: { key: options.tls.key, cert: options.tls.cert } }),
  }) as unknown as FastifyInstance
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  registerErrorHandling(app)
  registerSecurityHeaders(app, options.tls !== undefined)
  registerRateLimits(app, { requestsPerMinute: options.requestsPerMinute, https: options.tls !== undefined })

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Siteward API',
        version: '1',
        description:
          'Safety alerts for tower cranes and foundation pits. Every /api/ route needs `Authorization: Bearer <token>`.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: (documentObject) =>
      'openapiObject' in documentObject
        ? (completeOpenApi(
            documentObject.openapiObject as Parameters<typeof completeOpenApi>[0],
          ) as typeof documentObject.openapiObject)
        : documentObject.swaggerObject,
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())

  registerAuth(app, services.registry)
  healthRoutes(app, services)
  registryRoutes(app, services)
  rejectedRoutes(app, services)
  overrideRoutes(app, services)
  telemetryRoutes(app, services)
  adminRoutes(app, services)
  alertRoutes(app, services)
  settingsRoutes(app, services)
  readingRoutes(app, services)
  incidentRoutes(app, services)
  alertTelemetryRoutes(app, services)
  craneHistoryRoutes(app, services)
  reportRoutes(app, services)
  ruleRoutes(app, services)
  if (options.consoleDir !== undefined) await registerConsole(app, options.consoleDir)
  await app.ready()
  app.swagger() // builds the document now: a route without an operationId fails here, not in use
  return app
}
