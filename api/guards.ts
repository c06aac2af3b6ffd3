import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { SitewardError } from '../domain/errors.js'
import { LoginThrottle } from '../domain/login-throttle.js'

export interface GuardOptions {
  /** Requests per minute allowed per client address and, separately, per token. */
  readonly requestsPerMinute: number
  /** HSTS only makes sense when the API is served over TLS. */
  readonly https: boolean
  readonly now?: () => number
}

/**
 * API data may load nothing; /docs brings its own inline styles; the console loads only its own
 * bundled files and talks only to this server.
 */
function contentPolicyFor(url: string): string {
  if (url.startsWith('/docs'))
    return "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'"
  if (
    url.startsWith('/api/') ||
    url === '/openapi.json' ||
    url === '/metrics' ||
    url.startsWith('/healthz') ||
    url.startsWith('/readyz')
  )
    return "default-src 'none'; frame-ancestors 'none'"
  return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

/**
 * Headers every response carries: no sniffing, no framing, no referrer, no caching of API data,
 * and a content policy that allows only the API's own pages (the /docs page brings its own
 * scripts and styles, served from here).
 */
export function registerSecurityHeaders(app: FastifyInstance, https: boolean): void {
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff')
    reply.header('x-frame-options', 'DENY')
    reply.header('referrer-policy', 'no-referrer')
    reply.header('cross-origin-opener-policy', 'same-origin')
    reply.header('content-security-policy', contentPolicyFor(request.url))
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store')
    if (https) reply.header('strict-transport-security', 'max-age=31536000')
  })
}

/**
 * Token buckets per address and per token (a burst of a fifth of the minute's allowance, refilled
 * steadily); 429 RATE_LIMITED with Retry-After beyond them. Memory is bounded: at most 10,000
 * buckets of each kind, the least recently refilled go first.
 */
export function registerRateLimits(app: FastifyInstance, options: GuardOptions): void {
  const now = options.now ?? Date.now
  const perAddress = new Buckets(options.requestsPerMinute, now)
  const perToken = new Buckets(options.requestsPerMinute, now)
  app.addHook('onRequest', async (request, reply) => {
    if (request.url === '/healthz' || request.url === '/readyz') return // probes must always answer
    limit(perAddress.take(request.ip), reply, `requests from ${request.ip}`)
    const token = bearerOf(request)
    if (token !== undefined) limit(perToken.take(token), reply, 'requests with this token')
  })
}

/**
 * Slows guessing of API tokens per address: a known token is served at once, always; only the
 * 401 to an unknown one is held back (see LoginThrottle), so a guesser behind the same NAT or
 * proxy as everyone else slows down nobody but itself.
 */
export function tokenGuessThrottle(now?: () => number): {
  failed(request: FastifyRequest): Promise<void>
} {
  const throttle = new LoginThrottle(now === undefined ? {} : { now })
  return {
    async failed(request) {
      const holdMs = throttle.failed(`token@${request.ip}`, request.ip)
      if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs).unref())
    },
  }
}

function limit(retryAfterMs: number, reply: FastifyReply, what: string): void {
  if (retryAfterMs === 0) return
  const seconds = Math.ceil(retryAfterMs / 1000)
  reply.header('retry-after', String(seconds))
  throw new SitewardError('RATE_LIMITED', `too many ${what}; retry in ${seconds} s`)
}

function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  const match = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header)
  return match?.[1] ?? (request.query as { access_token?: string } | undefined)?.access_token
}

class Buckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()
  private readonly capacity: number
  private readonly perMs: number
  private readonly now: () => number

  constructor(perMinute: number, now: () => number) {
    this.capacity = Math.max(1, Math.ceil(perMinute / 5))
    this.perMs = perMinute / 60_000
    this.now = now
  }

  /** Takes one request's token: 0 when allowed, else how long until one is free. */
  take(key: string): number {
    const now = this.now()
    let bucket = this.buckets.get(key)
    if (bucket === undefined) {
      if (this.buckets.size >= 10_000) {
        const oldest = this.buckets.keys().next().value
        if (oldest !== undefined) this.buckets.delete(oldest)
      }
      bucket = { tokens: this.capacity, at: now }
    }
    this.buckets.delete(key) // re-inserted below: the map stays ordered by last use
    bucket.tokens = Math.min(this.capacity, bucket.tokens + (now - bucket.at) * this.perMs)
    bucket.at = now
    this.buckets.set(key, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.ceil((1 - bucket.tokens) / this.perMs)
  }
}
