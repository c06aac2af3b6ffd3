import { accessSync, constants, statSync } from 'node:fs'
import { isIP } from 'node:net'
import { resolve } from 'node:path'
import { z } from 'zod'
import { defaultEscalationPolicy, type EscalationPolicy } from '../domain/escalation.js'
import { formatIssues } from '../domain/issues.js'

const port = z.coerce.number().int().min(0).max(65_535)
const durationUnitsMs: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000 }

/** `critical=5m,alarm=15m,warning=60m`: escalation deadlines per severity (DOMAIN.md §3). */
const deadlines = z
  .string()
  .regex(
    /^(warning|alarm|critical)=\d+[smh](,(warning|alarm|critical)=\d+[smh])*$/,
    'severity=duration pairs, e.g. critical=5m,alarm=15m,warning=60m',
  )
  .transform(
    (text) =>
      Object.fromEntries(
        text.split(',').map((pair) => {
          const [severity = '', duration = ''] = pair.split('=')
          return [severity, Number(duration.slice(0, -1)) * (durationUnitsMs[duration.slice(-1)] ?? 0)]
        }),
      ) as Partial<Record<'warning' | 'alarm' | 'critical', number>>,
  )
const positiveInt = z.coerce.number().int().positive()
const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value === '' ? undefined : value))

/**
 * Which reverse proxies may tell the client's address in X-Forwarded-For: unset or `false` for
 * none (the socket's address counts), `true` for any, or the proxies' addresses and CIDR ranges.
 * Without it, everyone behind a proxy shares one address's rate limit and guess throttle.
 */
const trustProxy = z
  .string()
  .optional()
  .transform((text, context): boolean | string[] => {
    if (text === undefined || text === 'false') return false
    if (text === 'true') return true
    const entries = text.split(',').map((entry) => entry.trim())
    const bad = entries.filter((entry) => isIP(entry.split('/')[0] ?? '') === 0)
    if (bad.length > 0)
      context.addIssue({
        code: 'custom',
        message: `expected true, false, or the proxies' IP addresses / CIDR ranges; not ${bad.join(', ')}`,
      })
    return entries
  })

/** The environment, as CONTRACT §1.1 and the README's configuration table name it. */
const environmentSchema = z.object({
  SITEWARD_DATA_DIR: z.string().min(1).default('./data'),
  SITEWARD_MQTT_HOST: z.string().min(1).default('0.0.0.0'),
  SITEWARD_MQTT_PORT: port.default(1883),
  SITEWARD_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  SITEWARD_HTTP_PORT: port.default(8080),
  SITEWARD_INFLUX_URL: optionalText.pipe(
    z.url({ protocol: /^https?$/, message: 'an http(s) URL' }).optional(),
  ),
  SITEWARD_INFLUX_DB: z.string().min(1).default('siteward'),
  SITEWARD_INFLUX_TOKEN: optionalText,
  SITEWARD_INFLUX_USERNAME: optionalText,
  SITEWARD_INFLUX_PASSWORD: optionalText,
  SITEWARD_RULES_DIR: z.string().min(1).default('seeds/rules'),
  SITEWARD_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SITEWARD_TELEMETRY_RETENTION_DAYS: positiveInt.default(90),
  SITEWARD_WAL_SEGMENT_MB: positiveInt.max(1024).default(64),
  SITEWARD_WAL_MAX_MB: positiveInt.default(2_048),
  SITEWARD_WAL_COMMIT_MS: z.coerce.number().int().min(0).max(100).default(2),
  SITEWARD_MQTT_CONNECT_TIMEOUT_MS: positiveInt.max(120_000).default(10_000),
  SITEWARD_MQTT_MAX_UNAUTHENTICATED: positiveInt.default(1_000),
  SITEWARD_MQTT_MAX_UNAUTHENTICATED_PER_ADDRESS: positiveInt.default(256),
  SITEWARD_HTTP_RATE_LIMIT: positiveInt.default(600),
  SITEWARD_TRUST_PROXY: optionalText.pipe(trustProxy),
  SITEWARD_TLS_CERT_FILE: optionalText,
  SITEWARD_TLS_KEY_FILE: optionalText,
  SITEWARD_MQTTS_PORT: port.default(8883),
  SITEWARD_ACK_DEADLINES: deadlines.optional(),
  SITEWARD_RESOLVE_DEADLINES: deadlines.optional(),
  /** GB 50497-2019 §8.0.3 rates per day, over this window of event time (DOMAIN.md §4). */
  SITEWARD_PIT_RATE_WINDOW_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 7)
    .default(24),
  /** A rate divides by at least this span, so readings minutes apart never turn jitter into mm/d. */
  SITEWARD_PIT_RATE_MIN_SPAN_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 7)
    .optional(),
})

function isReadableFile(path: string): boolean {
  try {
    accessSync(path, constants.R_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** Rules across variables, checked on the raw environment so they are listed with all others. */
function crossFieldProblems(env: NodeJS.ProcessEnv): string[] {
  const set = (name: string) => env[name] !== undefined && env[name] !== ''
  const problems: string[] = []
  if (set('SITEWARD_INFLUX_USERNAME') !== set('SITEWARD_INFLUX_PASSWORD')) {
    const missing = set('SITEWARD_INFLUX_USERNAME') ? 'SITEWARD_INFLUX_PASSWORD' : 'SITEWARD_INFLUX_USERNAME'
    problems.push(`${missing}: SITEWARD_INFLUX_USERNAME and SITEWARD_INFLUX_PASSWORD go together`)
  }
  const segmentMb = Number(env.SITEWARD_WAL_SEGMENT_MB ?? 64)
  const maxMb = Number(env.SITEWARD_WAL_MAX_MB ?? 2_048)
  if (Number.isFinite(segmentMb) && Number.isFinite(maxMb) && maxMb < 2 * segmentMb) {
    // The log is trimmed a whole segment at a time: a limit under two segments could never drain.
    problems.push(`SITEWARD_WAL_MAX_MB: must be at least twice SITEWARD_WAL_SEGMENT_MB (${2 * segmentMb})`)
  }
  if (set('SITEWARD_TLS_CERT_FILE') !== set('SITEWARD_TLS_KEY_FILE')) {
    const missing = set('SITEWARD_TLS_CERT_FILE') ? 'SITEWARD_TLS_KEY_FILE' : 'SITEWARD_TLS_CERT_FILE'
    problems.push(`${missing}: SITEWARD_TLS_CERT_FILE and SITEWARD_TLS_KEY_FILE go together`)
  }
  for (const name of ['SITEWARD_TLS_CERT_FILE', 'SITEWARD_TLS_KEY_FILE']) {
    const path = env[name]
    if (path !== undefined && path !== '' && !isReadableFile(path))
      problems.push(`${name}: cannot read ${path}`)
  }
  if (set('SITEWARD_INFLUX_TOKEN') && set('SITEWARD_INFLUX_USERNAME')) {
    problems.push('SITEWARD_INFLUX_TOKEN: use a token or a username, not both')
  }
  return problems
}

export type InfluxCredentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }

export interface Config {
  readonly dataDir: string
  readonly mqtt: {
    readonly host: string
    readonly port: number
    readonly connectTimeoutMs: number
    readonly maxUnauthenticated: number
    readonly maxUnauthenticatedPerAddress: number
  }
  readonly http: {
    readonly host: string
    readonly port: number
    readonly requestsPerMinute: number
    readonly trustProxy: boolean | readonly string[]
  }
  /** When set: the API is served over HTTPS and MQTT gets a TLS listener on `mqttsPort`. */
  readonly tls: { readonly certFile: string; readonly keyFile: string; readonly mqttsPort: number } | null
  readonly influx: {
    readonly url: string
    readonly database: string
    readonly credentials: InfluxCredentials
  } | null
  readonly rulesDir: string
  readonly logLevel: z.infer<typeof environmentSchema>['SITEWARD_LOG_LEVEL']
  readonly telemetryRetentionDays: number
  readonly wal: { readonly segmentBytes: number; readonly commitMs: number; readonly maxBytes: number }
  readonly escalation: EscalationPolicy
  readonly pitRateWindow: { readonly windowMs: number; readonly minSpanMs: number }
}

export class ConfigError extends Error {
  readonly problems: readonly string[]
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  ${problem}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

/** Reads and validates the configuration; throws ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(env)
  const problems = [...(parsed.success ? [] : formatIssues(parsed.error, env)), ...crossFieldProblems(env)]
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems)
  const e = parsed.data
  return deepFreeze({
    dataDir: resolve(e.SITEWARD_DATA_DIR),
    mqtt: {
      host: e.SITEWARD_MQTT_HOST,
      port: e.SITEWARD_MQTT_PORT,
      connectTimeoutMs: e.SITEWARD_MQTT_CONNECT_TIMEOUT_MS,
      maxUnauthenticated: e.SITEWARD_MQTT_MAX_UNAUTHENTICATED,
      maxUnauthenticatedPerAddress: e.SITEWARD_MQTT_MAX_UNAUTHENTICATED_PER_ADDRESS,
    },
    http: {
      host: e.SITEWARD_HTTP_HOST,
      port: e.SITEWARD_HTTP_PORT,
      requestsPerMinute: e.SITEWARD_HTTP_RATE_LIMIT,
      trustProxy: e.SITEWARD_TRUST_PROXY,
    },
    tls:
      e.SITEWARD_TLS_CERT_FILE === undefined || e.SITEWARD_TLS_KEY_FILE === undefined
        ? null
        : {
            certFile: resolve(e.SITEWARD_TLS_CERT_FILE),
            keyFile: resolve(e.SITEWARD_TLS_KEY_FILE),
            mqttsPort: e.SITEWARD_MQTTS_PORT,
          },
    influx:
      e.SITEWARD_INFLUX_URL === undefined
        ? null
        : {
            url: e.SITEWARD_INFLUX_URL.replace(/\/+$/, ''),
            database: e.SITEWARD_INFLUX_DB,
            credentials: influxCredentials(e),
          },
    rulesDir: resolve(e.SITEWARD_RULES_DIR),
    logLevel: e.SITEWARD_LOG_LEVEL,
    telemetryRetentionDays: e.SITEWARD_TELEMETRY_RETENTION_DAYS,
    wal: {
      segmentBytes: e.SITEWARD_WAL_SEGMENT_MB * 1024 * 1024,
      commitMs: e.SITEWARD_WAL_COMMIT_MS,
      maxBytes: e.SITEWARD_WAL_MAX_MB * 1024 * 1024,
    },
    escalation: {
      ...defaultEscalationPolicy,
      acknowledgeWithinMs: { ...defaultEscalationPolicy.acknowledgeWithinMs, ...e.SITEWARD_ACK_DEADLINES },
      resolveWithinMs: { ...defaultEscalationPolicy.resolveWithinMs, ...e.SITEWARD_RESOLVE_DEADLINES },
    },
    pitRateWindow: {
      windowMs: e.SITEWARD_PIT_RATE_WINDOW_HOURS * 3_600_000,
      minSpanMs: (e.SITEWARD_PIT_RATE_MIN_SPAN_HOURS ?? e.SITEWARD_PIT_RATE_WINDOW_HOURS) * 3_600_000,
    },
  })
}

function influxCredentials(e: z.infer<typeof environmentSchema>): InfluxCredentials {
  if (e.SITEWARD_INFLUX_TOKEN !== undefined) return { kind: 'token', token: e.SITEWARD_INFLUX_TOKEN }
  if (e.SITEWARD_INFLUX_USERNAME !== undefined && e.SITEWARD_INFLUX_PASSWORD !== undefined) {
    return { kind: 'basic', username: e.SITEWARD_INFLUX_USERNAME, password: e.SITEWARD_INFLUX_PASSWORD }
  }
  return { kind: 'none' }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}
