/** How to reach an InfluxDB that serves the v1 HTTP API (1.x natively, 2.x/3.x for compatibility). */
export interface InfluxConnection {
  readonly url: string
  readonly database: string
  readonly credentials:
    | { readonly kind: 'none' }
    | { readonly kind: 'token'; readonly token: string }
    | { readonly kind: 'basic'; readonly username: string; readonly password: string }
}

export type WriteOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: number; readonly error: string }

export interface InfluxSeries {
  readonly name: string
  readonly tags?: Record<string, string>
  readonly columns: string[]
  readonly values: unknown[][]
}

const requestTimeoutMs = 10_000

/**
 * A thin client for InfluxDB's v1 endpoints: `/write` (line protocol, ms precision), `/query`
 * (InfluxQL, which reports errors as HTTP 200 with an `error` in the body) and `/ping`.
 */
export class InfluxV1Client {
  private readonly connection: InfluxConnection

  constructor(connection: InfluxConnection) {
    this.connection = connection
  }

  async write(lines: string): Promise<WriteOutcome> {
    const response = await this.request(
      '/write',
      { db: this.connection.database, precision: 'ms' },
      { method: 'POST', body: lines },
    )
    if (response.status >= 200 && response.status < 300) return { ok: true }
    return { ok: false, status: response.status, error: await errorText(response) }
  }

  /** Runs InfluxQL and returns the series of the first statement; throws on any error. */
  async query(
    influxql: string,
    options: { method?: 'GET' | 'POST'; database?: boolean } = {},
  ): Promise<InfluxSeries[]> {
    const params: Record<string, string> = { q: influxql, epoch: 'ms' }
    if (options.database !== false) params.db = this.connection.database
    const response = await this.request('/query', params, { method: options.method ?? 'GET' })
    if (!response.ok)
      throw new Error(`InfluxDB /query answered ${response.status}: ${await errorText(response)}`)
    const body = (await response.json()) as {
      error?: string
      results?: { error?: string; series?: InfluxSeries[] }[]
    }
    const error = body.error ?? body.results?.find((result) => result.error !== undefined)?.error
    if (error !== undefined) throw new Error(`InfluxDB query failed: ${error}`)
    return body.results?.[0]?.series ?? []
  }

  async ping(): Promise<boolean> {
    try {
      const response = await this.request('/ping', {}, { method: 'GET' })
      return response.status === 204 || response.ok
    } catch {
      return false
    }
  }

  private request(
    path: string,
    params: Record<string, string>,
    init: { method: string; body?: string },
  ): Promise<Response> {
    const url = new URL(`${this.connection.url}${path}`)
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value)
    const headers: Record<string, string> = {}
    const { credentials } = this.connection
    if (credentials.kind === 'token') headers.authorization = `Token ${credentials.token}`
    if (credentials.kind === 'basic') {
      headers.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
    }
    if (init.body !== undefined) headers['content-type'] = 'text/plain; charset=utf-8'
    return fetch(url, { ...init, headers, signal: AbortSignal.timeout(requestTimeoutMs) })
  }
}

async function errorText(response: Response): Promise<string> {
  const text = await response.text()
  try {
    const parsed = JSON.parse(text) as { error?: string; message?: string }
    return parsed.error ?? parsed.message ?? text
  } catch {
    return text || response.statusText
  }
}

/** InfluxQL identifier quoting: "name" with embedded quotes and backslashes escaped. */
export const quoteIdentifier = (name: string) => `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
/** InfluxQL string literal: 'value' with embedded quotes and backslashes escaped. */
export const quoteString = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
