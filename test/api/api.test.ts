import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectDevice, startTestEngine, type TestEngine } from '../helpers/engine.js'

describe('HTTP API: auth, scope, provisioning, OpenAPI (CONTRACT §5)', () => {
  let t: TestEngine
  const tokens: Record<string, string> = {}
  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const response = await t.engine.httpApp.inject({
      method: method as 'GET',
      url: path,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    })
    return {
      status: response.statusCode,
      body: String(response.headers['content-type'] ?? '').includes('json') ? response.json() : response.body,
      headers: response.headers,
    }
  }

  beforeAll(async () => {
    t = await startTestEngine()
    await t.provisioning.addSite({
      id: 'S1',
      name: '杭州一号工地',
      region: '330106',
      pitGrade: 1,
      pitDepthM: 15,
    })
    await t.provisioning.addSite({ id: 'S2', name: 'Site 2', region: '330106' })
    await t.provisioning.addSite({ id: 'S3', name: 'Site 3', region: '440305' })
    await t.provisioning.addDevice({ siteId: 'S1', id: 'TC-01', kind: 'crane' })
    await t.provisioning.addDevice({ siteId: 'S2', id: 'TC-02', kind: 'crane' })
    await t.provisioning.addDevice({ siteId: 'S3', id: 'PIT-03', kind: 'pit' })
    tokens.admin = await t.token('admin')
    tokens.officerS1 = await t.token('officer', { sites: ['S1'] })
    tokens.supervisorS2 = await t.token('supervisor', { sites: ['S2'] })
    tokens.regulator330106 = await t.token('regulator', { region: '330106' })
    tokens.regulatorAll = await t.token('regulator')
  })
  afterAll(async () => {
    await t?.stop()
  })

  it('tells a token who it is, and the escalation deadlines the console shows', async () => {
    const officer = await call('GET', '/api/me', tokens.officerS1)
    expect(officer.status).toBe(200)
    expect(officer.body).toMatchObject({ role: 'officer', sites: ['S1'], region: null })
    expect(officer.body.escalation.acknowledgeWithinMs).toEqual({
      critical: 300_000,
      alarm: 900_000,
      warning: 3_600_000,
    })
    expect((await call('GET', '/api/me', tokens.regulator330106)).body).toMatchObject({
      role: 'regulator',
      sites: [],
      region: '330106',
    })
    expect((await call('GET', '/api/me')).status).toBe(401)
  })

  it('answers 401 with the error envelope without a token or with a bad one', async () => {
    for (const token of [undefined, 'swt_not-a-real-token']) {
      const response = await call('GET', '/api/sites', token)
      expect(response.status).toBe(401)
      expect(response.body).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } })
    }
    const malformed = await t.engine.httpApp.inject({
      method: 'GET',
      url: '/api/sites',
      headers: { authorization: 'Basic abc' },
    })
    expect(malformed.statusCode).toBe(401)
  })

  it.each([
    ['admin', ['S1', 'S2', 'S3']],
    ['officerS1', ['S1']],
    ['supervisorS2', ['S2']],
    ['regulator330106', ['S1', 'S2']],
    ['regulatorAll', ['S1', 'S2', 'S3']],
  ])('lists only the sites in scope for %s', async (who, sites) => {
    const response = await call('GET', '/api/sites', tokens[who])
    expect(response.status).toBe(200)
    expect((response.body as { items: { id: string }[] }).items.map((s) => s.id)).toEqual(sites)
  })

  it('answers 404 (never 403) for sites and devices outside the scope', async () => {
    expect((await call('GET', '/api/sites/S2', tokens.officerS1)).status).toBe(404)
    expect((await call('GET', '/api/sites/S2/devices', tokens.officerS1)).body).toMatchObject({
      error: { code: 'SITE_NOT_FOUND' },
    })
    expect((await call('GET', '/api/devices/TC-02', tokens.officerS1)).body).toMatchObject({
      error: { code: 'DEVICE_NOT_FOUND' },
    })
    expect(
      (await call('GET', '/api/devices/PIT-03/telemetry?metric=value', tokens.regulator330106)).status,
    ).toBe(404)
    expect((await call('GET', '/api/devices/NOPE', tokens.admin)).status).toBe(404)
    const own = await call('GET', '/api/sites/S1', tokens.officerS1)
    expect(own.body).toMatchObject({
      id: 'S1',
      name: '杭州一号工地',
      region: '330106',
      pitGrade: 1,
      pitDepthM: 15,
    })
  })

  it('shows devices with presence and reject counters', async () => {
    const response = await call('GET', '/api/sites/S1/devices', tokens.officerS1)
    expect(response.body).toEqual({
      items: [
        expect.objectContaining({
          id: 'TC-01',
          siteId: 'S1',
          kind: 'crane',
          online: false,
          lastSeenAt: null,
          rejectedCount: 0,
          lastRejectReason: null,
        }),
      ],
    })
    expect(JSON.stringify(response.body)).not.toContain('secret')
  })

  it('lets only admins provision (403 for other roles)', async () => {
    for (const who of ['officerS1', 'supervisorS2', 'regulatorAll']) {
      const response = await call('POST', '/api/sites', tokens[who], {
        id: 'S9',
        name: 'x',
        region: '330106',
      })
      expect(response.status).toBe(403)
      expect(response.body).toMatchObject({ error: { code: 'FORBIDDEN' } })
    }
  })

  it('provisions a site, a device that can log in at once, and a token that works at once', async () => {
    const site = await call('POST', '/api/sites', tokens.admin, {
      id: 'S9',
      name: 'New site',
      region: '330106',
      pitGrade: 2,
      pitDepthM: 9.5,
    })
    expect(site.status).toBe(201)
    const device = await call('POST', '/api/devices', tokens.admin, {
      siteId: 'S9',
      id: 'TC-90',
      kind: 'crane',
      name: 'North crane',
    })
    expect(device.status).toBe(201)
    expect(device.body).toEqual({
      siteId: 'S9',
      deviceId: 'TC-90',
      kind: 'crane',
      secret: expect.any(String),
    })
    const client = await connectDevice(t.mqttUrl, 'TC-90', (device.body as { secret: string }).secret)
    expect(client.connected).toBe(true)
    await client.endAsync()

    const again = await call('POST', '/api/devices', tokens.admin, {
      siteId: 'S9',
      id: 'TC-90',
      kind: 'crane',
    })
    expect(again.status).toBe(409)
    expect(again.body).toMatchObject({ error: { code: 'DEVICE_EXISTS' } })
    const noSite = await call('POST', '/api/devices', tokens.admin, {
      siteId: 'S404',
      id: 'TC-91',
      kind: 'crane',
    })
    expect(noSite.body).toMatchObject({ error: { code: 'SITE_NOT_FOUND' } })

    const token = await call('POST', '/api/tokens', tokens.admin, {
      role: 'officer',
      name: 'Officer Wang',
      sites: ['S9'],
    })
    expect(token.status).toBe(201)
    const issued = token.body as { token: string; role: string }
    expect(issued.role).toBe('officer')
    const mine = await call('GET', '/api/sites', issued.token)
    expect((mine.body as { items: { id: string }[] }).items.map((s) => s.id)).toEqual(['S9'])
  })

  it('rejects unknown fields and wrong types with VALIDATION_FAILED naming the field', async () => {
    const unknown = await call('POST', '/api/sites', tokens.admin, {
      id: 'S10',
      name: 'x',
      region: '330106',
      colour: 'red',
    })
    expect(unknown.status).toBe(400)
    expect(unknown.body).toMatchObject({
      error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('colour') },
    })
    const wrongType = await call('POST', '/api/devices', tokens.admin, {
      siteId: 'S1',
      id: 'bad id!',
      kind: 'tower',
    })
    expect(wrongType.status).toBe(400)
    expect((wrongType.body as { error: { details: string[] } }).error.details.join(' ')).toMatch(
      /id.*kind|kind.*id/,
    )
    const noSites = await call('POST', '/api/tokens', tokens.admin, { role: 'officer', name: 'x' })
    expect((noSites.body as { error: { message: string } }).error.message).toContain('sites')
    const badQuery = await call('GET', '/api/devices/TC-01/telemetry?metric=loadT&every=fast', tokens.admin)
    expect(badQuery.status).toBe(400)
    expect((badQuery.body as { error: { message: string } }).error.message).toContain('every')
    const wrongMetric = await call('GET', '/api/devices/TC-01/telemetry?metric=cumulative', tokens.admin)
    expect(wrongMetric.body).toMatchObject({
      error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('not a metric of crane devices') },
    })
  })

  it('refuses oversize bodies with 413 and unknown routes with 404, both enveloped', async () => {
    const big = await call('POST', '/api/sites', tokens.admin, {
      id: 'S11',
      name: 'x'.repeat(2 * 1024 * 1024),
      region: '330106',
    })
    expect(big.status).toBe(413)
    expect(big.body).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } })
    const missing = await call('GET', '/api/nothing-here', tokens.admin)
    expect(missing.status).toBe(404)
    expect(missing.body).toMatchObject({ error: { code: 'NOT_FOUND' } })
  })

  it('serves health, readiness, Prometheus metrics, the OpenAPI document and its browsable page', async () => {
    expect((await call('GET', '/healthz')).body).toEqual({ status: 'ok' })
    const ready = await call('GET', '/readyz')
    expect(ready.status).toBe(200)
    expect(
      (ready.body as { checks: { name: string; ok: boolean }[] }).checks.map((c) => [c.name, c.ok]),
    ).toEqual([
      ['mqtt', true],
      ['wal', true],
      ['store', true],
      ['telemetry', true],
    ])
    const metrics = await call('GET', '/metrics')
    expect(metrics.headers['content-type']).toContain('text/plain')
    for (const name of [
      'siteward_messages_accepted_total',
      'siteward_messages_rejected_total',
      'siteward_log_depth_bytes',
      'siteward_shipper_lag_seconds',
      'siteward_telemetry_write_errors_total',
    ]) {
      expect(metrics.body).toContain(name)
    }
    const openapi = (await call('GET', '/openapi.json')).body as {
      openapi: string
      paths: Record<string, unknown>
    }
    expect(openapi.openapi).toMatch(/^3\./)
    for (const path of [
      '/api/sites',
      '/api/sites/{siteId}',
      '/api/sites/{siteId}/devices',
      '/api/devices/{deviceId}',
      '/api/devices/{deviceId}/telemetry',
      '/api/devices',
      '/api/tokens',
      '/api/alerts',
      '/api/alerts/stream',
      '/api/alerts/{id}',
      '/api/alerts/{id}/events',
      '/api/alerts/{id}/verify',
      '/api/alerts/{id}/acknowledge',
      '/api/alerts/{id}/resolve',
      '/api/alerts/{id}/close',
      '/api/alerts/{id}/comments',
      '/api/sites/{siteId}/rules/{ruleId}',
      '/api/sites/{siteId}/points/{pointCode}',
      '/api/devices/{deviceId}/load-chart',
      '/healthz',
      '/readyz',
      '/metrics',
    ]) {
      expect(Object.keys(openapi.paths)).toContain(path)
    }
    const docs = await t.engine.httpApp.inject({ method: 'GET', url: '/docs/' })
    expect(docs.statusCode).toBe(200)
    expect(docs.body).toContain('swagger')
  })

  it('serves the same over a real socket', async () => {
    const response = await fetch(`${t.httpUrl}/api/sites/S1`, {
      headers: { authorization: `Bearer ${tokens.regulator330106}` },
    })
    expect(response.status).toBe(200)
    expect(((await response.json()) as { name: string }).name).toBe('杭州一号工地')
  })
})
