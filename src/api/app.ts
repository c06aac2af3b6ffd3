import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { Logger } from 'pino'
import { registerAuth } from './auth.js'
import { registerErrorHandling } from './error-handler.js'
import { adminRoutes } from './routes/admin.js'
import { alertRoutes } from './routes/alerts.js'
import { healthRoutes } from './routes/health.js'
import { readingRoutes } from './routes/readings.js'
import { registryRoutes } from './routes/registry.js'
import { settingsRoutes } from './routes/settings.js'
import { telemetryRoutes } from './routes/telemetry.js'
import type { ApiServices } from './services.js'

/** 1 MiB: room for a batch of manual readings, far below anything that could hurt. */
const bodyLimitBytes = 1024 * 1024

/** Builds the HTTP API around the services it is given; it never reaches into storage itself. */
export async function buildApi(services: ApiServices, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: bodyLimitBytes,
    forceCloseConnections: true,
    // Per-request lines would drown the log of a busy engine; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
  })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  registerErrorHandling(app)

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Siteward API',
        version: '1',
        description:
          'Safety alerts for tower cranes and foundation pits. Every /api/ route needs `Authorization: Bearer <token>`.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())

  registerAuth(app, services.registry)
  healthRoutes(app, services)
  registryRoutes(app, services)
  telemetryRoutes(app, services)
  adminRoutes(app, services)
  alertRoutes(app, services)
  settingsRoutes(app, services)
  readingRoutes(app, services)
  return app
}
