/**
 * The one registry of coded errors. Every code has an HTTP status and a default message, and the
 * README documents each one (test/domain/errors.test.ts keeps the two in step).
 * Shape on the wire: `{ "error": { "code", "message", "details"? } }` (CONTRACT §5).
 */
export const errorCatalog = {
  VALIDATION_FAILED: { status: 400, message: 'The request is not valid' },
  UNAUTHORIZED: { status: 401, message: 'A valid bearer token is required' },
  FORBIDDEN: { status: 403, message: 'Your role may not do this' },
  NOT_FOUND: { status: 404, message: 'No such resource in your scope' },
  SITE_NOT_FOUND: { status: 404, message: 'No such site in your scope' },
  DEVICE_NOT_FOUND: { status: 404, message: 'No such device in your scope' },
  DEVICE_EXISTS: { status: 409, message: 'A device with this id already exists' },
  ALERT_NOT_FOUND: { status: 404, message: 'No such alert in your scope' },
  RULE_NOT_FOUND: { status: 404, message: 'No such rule in the catalogue' },
  ALERT_NOT_ACKNOWLEDGED: { status: 409, message: 'The alert must be acknowledged first' },
  ALERT_NOT_RESOLVED: { status: 409, message: 'The alert must be resolved first' },
  ALERT_CONDITION_ACTIVE: { status: 409, message: 'The alert condition is still active' },
  VERSION_MISMATCH: { status: 412, message: 'The alert has changed since you read it (If-Match)' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  TELEMETRY_UNAVAILABLE: { status: 503, message: 'The telemetry store cannot be reached' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; retry after the time in Retry-After' },
  LOG_FULL: {
    status: 503,
    message: 'The write-ahead log is full while the telemetry store catches up; resend later',
  },
  INGEST_UNAVAILABLE: {
    status: 503,
    message: 'The edge, which logs readings, did not take them in time; nothing was stored, send them again',
  },
  INTERNAL_ERROR: { status: 500, message: 'Something went wrong on our side' },
} as const satisfies Record<string, { status: number; message: string }>

export type ErrorCode = keyof typeof errorCatalog

export class SitewardError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly details: unknown

  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? errorCatalog[code].message)
    this.name = 'SitewardError'
    this.code = code
    this.status = errorCatalog[code].status
    this.details = details
  }
}

export const isSitewardError = (error: unknown): error is SitewardError => error instanceof SitewardError

const listenProblems: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is in use (another Siteward, or another program)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'this machine has no such address',
}

/**
 * A listener (MQTT, MQTT over TLS, HTTP) could not start. The engine stops rather than run half
 * (a broker acknowledging readings that no API shows is worse than no engine): one line says
 * which listener, where, why, and which variable moves it.
 */
export class ListenerError extends Error {
  constructor(
    readonly listener: 'MQTT' | 'MQTT over TLS' | 'HTTP',
    host: string,
    port: number,
    cause: unknown,
  ) {
    const code = (cause as { code?: string } | null)?.code ?? ''
    const variable = {
      MQTT: 'SITEWARD_MQTT_PORT',
      'MQTT over TLS': 'SITEWARD_MQTTS_PORT',
      HTTP: 'SITEWARD_HTTP_PORT',
    }[listener]
    const why = listenProblems[code] ?? (cause instanceof Error ? cause.message : String(cause))
    super(`cannot listen for ${listener} on ${host}:${port}: ${why}; set ${variable} to a free port`)
    this.name = 'ListenerError'
  }
}
