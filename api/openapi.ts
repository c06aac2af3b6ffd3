/**
 * What the OpenAPI document says beyond the routes' own schemas, added in one place so that every
 * route gets it: a name for each operation, the servers, the answers any route can give (429 with
 * Retry-After, 413 for a body, 401 for a protected route) and the media types of the routes that
 * do not answer JSON. Lint-clean under Redocly's recommended rules (test/api/openapi.test.ts).
 */

/** `METHOD /path` → operationId. A route missing here fails at start-up, so none goes unnamed. */
export const operationIds: Readonly<Record<string, string>> = {
  'GET /healthz': 'getLiveness',
  'GET /readyz': 'getReadiness',
  'GET /metrics': 'getMetrics',
  'GET /api/me': 'getMe',
  'GET /api/sites': 'listSites',
  'POST /api/sites': 'putSite',
  'GET /api/sites/{siteId}': 'getSite',
  'GET /api/sites/{siteId}/devices': 'listSiteDevices',
  'GET /api/devices/{deviceId}': 'getDevice',
  'GET /api/devices/{deviceId}/rejected': 'listRejectedMessages',
  'GET /api/overrides': 'listOverrides',
  'GET /api/devices/{deviceId}/telemetry': 'getDeviceTelemetry',
  'GET /api/devices/{deviceId}/profile': 'getInclinometerProfile',
  'POST /api/devices': 'createDevice',
  'POST /api/tokens': 'createToken',
  'GET /api/tokens': 'listTokens',
  'POST /api/tokens/{tokenId}/revoke': 'revokeToken',
  'POST /api/devices/{deviceId}/disable': 'disableDevice',
  'POST /api/devices/{deviceId}/enable': 'enableDevice',
  'POST /api/devices/{deviceId}/secret': 'rotateDeviceSecret',
  'GET /api/alerts': 'listAlerts',
  'GET /api/alerts/stream': 'streamAlerts',
  'GET /api/alerts/{id}': 'getAlert',
  'GET /api/alerts/{id}/events': 'listAlertEvents',
  'GET /api/alerts/{id}/verify': 'verifyAlertTimeline',
  'POST /api/alerts/{id}/acknowledge': 'acknowledgeAlert',
  'POST /api/alerts/{id}/resolve': 'resolveAlert',
  'POST /api/alerts/{id}/close': 'closeAlert',
  'POST /api/alerts/{id}/comments': 'commentOnAlert',
  'PUT /api/sites/{siteId}/rules/{ruleId}': 'putRuleOverride',
  'PUT /api/devices/{deviceId}/load-chart': 'putLoadChart',
  'PUT /api/devices/{deviceId}/settings': 'putDeviceSettings',
  'PUT /api/sites/{siteId}/points/{pointCode}': 'putPointSettings',
  'POST /api/sites/{siteId}/readings': 'submitReadings',
  'GET /api/incidents': 'listIncidents',
  'GET /api/incidents.csv': 'exportIncidentsCsv',
  'GET /api/alerts/{id}/telemetry': 'getAlertTelemetry',
  'GET /api/devices/{deviceId}/cycles': 'getCraneWorkDays',
  'GET /api/reports/summary': 'getSummaryReport',
  'GET /api/rules': 'listEffectiveRules',
}

/** Routes that answer something other than JSON on success. */
const mediaTypes: Readonly<Record<string, { type: string; description: string }>> = {
  'GET /metrics': { type: 'text/plain; version=0.0.4', description: 'Prometheus text exposition' },
  'GET /api/alerts/stream': {
    type: 'text/event-stream',
    description: 'Server-Sent Events: `event: alert`, `id: <timeline seq>`, `data: {"event", "alert"}`',
  },
  'GET /api/incidents.csv': {
    type: 'text/csv; charset=utf-8',
    description: 'UTF-8 CSV with a byte order mark and a header row',
  },
}

type Operation = {
  operationId?: string
  security?: unknown[]
  requestBody?: unknown
  responses?: Record<string, unknown>
}
type Document = { paths?: Record<string, Record<string, Operation>>; [key: string]: unknown }

const errorBody = { $ref: '#/components/schemas/Error' }
const answer = (description: string, headers?: Record<string, unknown>) => ({
  description,
  ...(headers === undefined ? {} : { headers }),
  content: { 'application/json': { schema: errorBody } },
})
const retryAfter = {
  'Retry-After': {
    description: 'Seconds to wait before trying again',
    schema: { type: 'integer', minimum: 1 },
  },
}

export function completeOpenApi(document: Document): Document {
  const paths: Record<string, Record<string, Operation>> = {}
  for (const [path, operations] of Object.entries(document.paths ?? {})) {
    paths[path] = {}
    for (const [method, operation] of Object.entries(operations)) {
      const key = `${method.toUpperCase()} ${path}`
      const operationId = operationIds[key]
      if (operationId === undefined) throw new Error(`no operationId for ${key}: add it to api/openapi.ts`)
      const responses = { ...operation.responses }
      const secured = operation.security !== undefined
      if (secured) responses['401'] ??= answer('No valid bearer token')
      if (operation.requestBody !== undefined) responses['413'] ??= answer('The request body is over 1 MiB')
      responses['429'] ??= answer('Too many requests from this address or with this token', retryAfter)
      const media = mediaTypes[key]
      if (media !== undefined)
        responses['200'] = {
          description: media.description,
          content: { [media.type]: { schema: { type: 'string' } } },
        }
      paths[path][method] = { ...operation, operationId, ...(secured ? {} : { security: [] }), responses }
    }
  }
  return {
    ...document,
    servers: [{ url: '/', description: 'this engine (paths are relative to where this document was read)' }],
    paths,
    components: {
      ...(document.components as Record<string, unknown>),
      schemas: {
        ...((document.components as { schemas?: Record<string, unknown> } | undefined)?.schemas ?? {}),
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
            },
          },
        },
      },
    },
  }
}
