import { request as httpRequest } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '../../domain/alert.js'
import { connectDevice, startTestEngine, type TestEngine, waitFor } from '../helpers/engine.js'

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: { error?: { code: string; message: string }; items?: { id?: string; siteId?: string }[] } & Record<
    string,
    unknown
  >
}

/** One HTTP request from a chosen loopback address (each address is a different client). */
function call(
  base: string,
  method: string,
  path: string,
  options: {
    token?: string
    body?: unknown
    raw?: string
    from?: string
    headers?: Record<string, string>
  } = {},
): Promise<Answer> {
  const url = new URL(path, base)
  const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body))
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        localAddress: options.from ?? '127.0.0.1',
        headers: {
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk)
          // The SSE stream never ends: the first chunk is enough to see who it lets in.
          if (res.headers['content-type']?.startsWith('text/event-stream')) res.destroy()
        })
        const done = () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let body: Answer['body'] = {}
          try {
            body = text.startsWith('{') ? JSON.parse(text) : { text }
          } catch {
            body = { text }
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body })
        }
        res.on('end', done)
        res.on('close', done)
      },
    )
    req.on('error', reject)
    if (payload !== undefined) req.write(payload)
    req.end()
  })
}

describe('HTTP hardening', () => {
  let t: TestEngine
  const tokens: Record<string, string> = {}
  let alert: Alert

  beforeAll(async () => {
    t = await startTestEngine({ env: { SITEWARD_HTTP_RATE_LIMIT: '300' } })
    await t.provisioning.addSite({ id: 'S1', name: 'Target', region: '330106', pitGrade: 1, pitDepthM: 12 })
    await t.provisioning.addSite({ id: 'S2', name: 'Elsewhere', region: '440300' })
    const secret = (await t.provisioning.addDevice({ siteId: 'S1', id: 'TC-01', kind: 'crane' })).secret
    await t.provisioning.addDevice({ siteId: 'S2', id: 'TC-02', kind: 'crane' })
    tokens.officerS1 = await t.token('officer', { sites: ['S1'] })
    tokens.supervisorS2 = await t.token('supervisor', { sites: ['S2'] })
    tokens.regulatorOther = await t.token('regulator', { region: '440300' })
    tokens.admin = await t.token('admin')
    const crane = await connectDevice(t.mqttUrl, 'TC-01', secret)
    await crane.publishAsync(
      'sites/S1/devices/TC-01/telemetry',
      JSON.stringify({ ts: Date.now(), loadPct: 105 }),
      {
        qos: 1,
      },
    )
    await crane.endAsync()
    alert = await waitFor(async () => {
      const answer = await call(t.httpUrl, 'GET', '/api/alerts', { token: tokens.officerS1 })
      return answer.body.items?.[0] as Alert | undefined
    }, 'an alert on S1')
  })
  afterAll(async () => {
    await t?.stop()
  })

  it('sends security headers on every response, and no-store on API data', async () => {
    const api = await call(t.httpUrl, 'GET', '/api/sites', { token: tokens.admin })
    const health = await call(t.httpUrl, 'GET', '/healthz')
    for (const answer of [api, health]) {
      expect(answer.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'content-security-policy': expect.stringContaining("frame-ancestors 'none'"),
      })
    }
    expect(api.headers['cache-control']).toBe('no-store')
    expect(api.headers['strict-transport-security']).toBeUndefined() // plain HTTP: no HSTS
  })

  it('refuses an oversize body with 413 before reading it all', async () => {
    const answer = await call(t.httpUrl, 'POST', '/api/sites/S1/readings', {
      token: tokens.officerS1,
      raw: JSON.stringify({ deviceId: 'TC-01', ts: Date.now(), pad: 'x'.repeat(2 * 1024 * 1024) }),
    })
    expect(answer.status).toBe(413)
    expect(answer.body.error?.code).toBe('PAYLOAD_TOO_LARGE')
  })

  it('answers a manual reading nested 5,000 deep with 400, not 500', async () => {
    const deep = `${'['.repeat(5_000)}${']'.repeat(5_000)}`
    const answer = await call(t.httpUrl, 'POST', '/api/sites/S1/readings', {
      token: tokens.officerS1,
      raw: `{"deviceId": "TC-01", "ts": ${Date.now()}, "loadT": 1, "junk": ${deep}}`,
    })
    expect(answer.status).toBe(400)
    expect(answer.body.error?.message).toMatch(/nests deeper than 32 levels/)
  })

  it('rejects unknown fields by name instead of dropping them', async () => {
    const answer = await call(t.httpUrl, 'POST', `/api/alerts/${alert.id}/acknowledge`, {
      token: tokens.officerS1,
      body: { note: 'on it', sneaky: true },
    })
    expect(answer.status).toBe(400)
    expect(answer.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(/sneaky/),
    })
  })

  it('limits requests per address with 429 and Retry-After; other addresses and probes go on', async () => {
    // 300 a minute: a burst of 60, then 5 a second.
    const answers = await Promise.all(
      Array.from({ length: 80 }, () =>
        call(t.httpUrl, 'GET', '/api/sites', { token: tokens.admin, from: '127.0.0.20' }),
      ),
    )
    const limited = answers.filter((a) => a.status === 429)
    expect(limited.length).toBeGreaterThan(0)
    expect(limited[0]?.body.error?.code).toBe('RATE_LIMITED')
    expect(Number(limited[0]?.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expect((await call(t.httpUrl, 'GET', '/healthz', { from: '127.0.0.20' })).status).toBe(200)
    expect(
      (await call(t.httpUrl, 'GET', '/api/sites', { token: tokens.officerS1, from: '127.0.0.21' })).status,
    ).toBe(200)
  })

  it('limits requests per token across addresses', async () => {
    const token = await t.token('admin')
    const answers = await Promise.all(
      Array.from({ length: 80 }, (_, i) =>
        call(t.httpUrl, 'GET', '/api/sites', { token, from: `127.0.1.${(i % 40) + 1}` }),
      ),
    )
    expect(answers.some((a) => a.status === 429 && /this token/.test(a.body.error?.message ?? ''))).toBe(true)
  })

  it('holds the 401s of a token guesser, even in parallel, and never a known token from the same address', async () => {
    const from = '127.0.0.30'
    const guess = async (i: number) => {
      const started = Date.now()
      const answer = await call(t.httpUrl, 'GET', '/api/sites', { token: `guess-${i}`, from })
      return { status: answer.status, ms: Date.now() - started }
    }
    for (let i = 0; i < 5; i++) expect((await guess(i)).status).toBe(401)
    // Parallel guesses cannot slip past the hold: their answers come one after another.
    const parallel = await Promise.all([5, 6, 7].map(guess))
    expect(parallel.map((a) => a.status)).toEqual([401, 401, 401])
    expect(Math.max(...parallel.map((a) => a.ms))).toBeGreaterThanOrEqual(6_500)
    // 20 failures in all: the address is slowed, yet its known token is served at once.
    const more = Array.from({ length: 12 }, (_, i) => guess(8 + i))
    await new Promise((resolve) => setTimeout(resolve, 300))
    const started = Date.now()
    expect((await call(t.httpUrl, 'GET', '/api/sites', { token: tokens.officerS1, from })).status).toBe(200)
    const board = await call(t.httpUrl, 'GET', `/api/alerts/stream?access_token=${tokens.officerS1}`, {
      from,
    })
    expect(board.status).toBe(200)
    expect(Date.now() - started).toBeLessThan(1_000)
    void Promise.allSettled(more) // held up to 30 s: the engine's stop ends them
  }, 20_000)

  /**
   * Object-level authorization: a supervisor of S2 and a regulator of another region try every
   * route against S1's site, device, alert and points. Each route of the OpenAPI document must be
   * in this table, so a new route cannot skip the check.
   */
  const foreign: Record<string, (id: string) => { path: string; body?: unknown; expect: number[] }> = {
    'GET /healthz': () => ({ path: '/healthz', expect: [200] }),
    'GET /readyz': () => ({ path: '/readyz', expect: [200] }),
    'GET /metrics': () => ({ path: '/metrics', expect: [200] }),
    'GET /api/sites': () => ({ path: '/api/sites', expect: [200] }),
    'GET /api/me': () => ({ path: '/api/me', expect: [200] }),
    'POST /api/sites': () => ({
      path: '/api/sites',
      body: { id: 'S9', name: 'x', region: '330106' },
      expect: [403],
    }),
    'GET /api/sites/{siteId}': () => ({ path: '/api/sites/S1', expect: [404] }),
    'GET /api/sites/{siteId}/devices': () => ({ path: '/api/sites/S1/devices', expect: [404] }),
    'GET /api/devices/{deviceId}': () => ({ path: '/api/devices/TC-01', expect: [404] }),
    'GET /api/devices/{deviceId}/cycles': () => ({
      path: `/api/devices/TC-01/cycles?from=${new Date(Date.now() - 3_600_000).toISOString()}&to=${new Date().toISOString()}`,
      expect: [404],
    }),
    'GET /api/devices/{deviceId}/rejected': () => ({ path: '/api/devices/TC-01/rejected', expect: [404] }),
    'GET /api/devices/{deviceId}/telemetry': () => ({
      path: `/api/devices/TC-01/telemetry?metric=loadT&from=${new Date(Date.now() - 3_600_000).toISOString()}`,
      expect: [404],
    }),
    'POST /api/devices': () => ({
      path: '/api/devices',
      body: { siteId: 'S1', id: 'X-1', kind: 'crane' },
      expect: [403],
    }),
    'POST /api/tokens': () => ({ path: '/api/tokens', body: { role: 'admin', name: 'x' }, expect: [403] }),
    'GET /api/tokens': () => ({ path: '/api/tokens', expect: [403] }),
    'POST /api/tokens/{tokenId}/revoke': () => ({ path: '/api/tokens/x/revoke', expect: [403] }),
    'POST /api/devices/{deviceId}/disable': () => ({ path: '/api/devices/TC-01/disable', expect: [403] }),
    'POST /api/devices/{deviceId}/enable': () => ({ path: '/api/devices/TC-01/enable', expect: [403] }),
    'POST /api/devices/{deviceId}/secret': () => ({ path: '/api/devices/TC-01/secret', expect: [403] }),
    'GET /api/alerts': () => ({ path: '/api/alerts?siteId=S1', expect: [200] }),
    'GET /api/alerts/stream': () => ({ path: '/api/alerts/stream', expect: [200] }),
    'GET /api/incidents': () => ({ path: '/api/incidents?siteId=S1', expect: [200] }),
    'GET /api/incidents.csv': () => ({ path: '/api/incidents.csv', expect: [200] }),
    'GET /api/reports/summary': () => ({
      path: `/api/reports/summary?from=${new Date(Date.now() - 86_400_000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`,
      expect: [200],
    }),
    'GET /api/alerts/{id}': (id) => ({ path: `/api/alerts/${id}`, expect: [404] }),
    'GET /api/alerts/{id}/events': (id) => ({ path: `/api/alerts/${id}/events`, expect: [404] }),
    'GET /api/alerts/{id}/verify': (id) => ({ path: `/api/alerts/${id}/verify`, expect: [404] }),
    'GET /api/alerts/{id}/telemetry': (id) => ({ path: `/api/alerts/${id}/telemetry`, expect: [404] }),
    'POST /api/alerts/{id}/acknowledge': (id) => ({
      path: `/api/alerts/${id}/acknowledge`,
      body: {},
      expect: [404],
    }),
    'POST /api/alerts/{id}/resolve': (id) => ({
      path: `/api/alerts/${id}/resolve`,
      body: { action: 'y' },
      expect: [404],
    }),
    'POST /api/alerts/{id}/close': (id) => ({ path: `/api/alerts/${id}/close`, body: {}, expect: [404] }),
    'POST /api/alerts/{id}/comments': (id) => ({
      path: `/api/alerts/${id}/comments`,
      body: { text: 'x' },
      expect: [404],
    }),
    'PUT /api/sites/{siteId}/rules/{ruleId}': () => ({
      path: '/api/sites/S1/rules/crane.load',
      body: { enabled: false },
      expect: [404],
    }),
    'PUT /api/devices/{deviceId}/load-chart': () => ({
      path: '/api/devices/TC-01/load-chart',
      body: { points: [{ radiusM: 10, ratedLoadT: 5 }] },
      expect: [404],
    }),
    'PUT /api/devices/{deviceId}/settings': () => ({
      path: '/api/devices/TC-01/settings',
      body: { hookHeightMaxM: 400 },
      expect: [404],
    }),
    'GET /api/devices/{deviceId}/profile': () => ({
      path: '/api/devices/TC-01/profile?point=CX-01',
      expect: [404],
    }),
    'GET /api/rules': () => ({ path: '/api/rules?siteId=S1', expect: [404] }),
    'GET /api/overrides': () => ({ path: '/api/overrides?siteId=S1', expect: [404] }),
    'PUT /api/sites/{siteId}/points/{pointCode}': () => ({
      path: '/api/sites/S1/points/ZQS-01',
      body: { item: 'wall_top_horizontal', baseline: 1 },
      expect: [404],
    }),
    'POST /api/sites/{siteId}/readings': () => ({
      path: '/api/sites/S1/readings',
      body: { deviceId: 'TC-01', ts: Date.now(), windMps: 1 },
      expect: [404],
    }),
  }

  it('has every route of the OpenAPI document in the authorization table', async () => {
    const doc = (await call(t.httpUrl, 'GET', '/openapi.json')).body as { paths: Record<string, object> }
    const routes = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    )
    expect(routes.sort()).toEqual(Object.keys(foreign).sort())
  })

  it.each(['supervisorS2', 'regulatorOther'])(
    'lets a %s reach nothing of site S1 on any route',
    async (who) => {
      const token = tokens[who] as string
      let from = 40
      for (const [route, make] of Object.entries(foreign)) {
        const { path, body, expect: allowed } = make(alert.id)
        const method = route.split(' ')[0] as string
        // Each route from its own address, so the rate limit never stands in for authorization.
        const answer = await call(t.httpUrl, method, path, { token, body, from: `127.0.2.${from++}` })
        // 403 (the role may not) reaches nothing either, wherever 404 (not in scope) is expected.
        const accepted = allowed.includes(404) ? [...allowed, 403] : allowed
        expect(
          accepted,
          `${route} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`,
        ).toContain(answer.status)
        const text = JSON.stringify(answer.body)
        // (A refusal may echo the id that was asked for; data of S1 must never appear.)
        const leaks =
          text.includes('"siteId":"S1"') ||
          text.includes('"key":"S1"') ||
          text.includes(',S1,') ||
          (answer.status < 300 && text.includes(alert.id))
        expect(leaks, `${route} leaks S1: ${text.slice(0, 200)}`).toBe(false)
      }
    },
  )
})

describe('behind a reverse proxy (SITEWARD_TRUST_PROXY)', () => {
  let t: TestEngine
  let token: string
  beforeAll(async () => {
    t = await startTestEngine({ env: { SITEWARD_HTTP_RATE_LIMIT: '60', SITEWARD_TRUST_PROXY: '127.0.0.1' } })
    await t.provisioning.addSite({ id: 'S1', name: 'Target', region: '330106' })
    token = await t.token('admin')
  })
  afterAll(async () => {
    await t?.stop()
  })

  it("limits each forwarded client on its own, not everyone behind the proxy's address", async () => {
    const admin = await t.token('admin')
    const viaProxy = (client: string, bearer = admin) =>
      call(t.httpUrl, 'GET', '/api/sites', { token: bearer, headers: { 'x-forwarded-for': client } })
    const answers = await Promise.all(Array.from({ length: 30 }, () => viaProxy('10.9.9.9')))
    expect(answers.some((a) => a.status === 429)).toBe(true)
    expect((await viaProxy('10.9.9.8', token)).status).toBe(200)
  })
})
