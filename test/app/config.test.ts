import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../app/config.js'

describe('configuration from the environment (CONTRACT §1.1)', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({
      mqtt: { host: '0.0.0.0', port: 1883, maxUnauthenticated: 1_000, maxUnauthenticatedPerAddress: 256 },
      http: { host: '0.0.0.0', port: 8080, trustProxy: false },
      influx: null,
      logLevel: 'info',
      telemetryRetentionDays: 90,
      wal: { segmentBytes: 64 * 1024 * 1024, commitMs: 2 },
    })
    expect(config.dataDir).toMatch(/\/data$/)
    expect(config.rulesDir).toMatch(/\/seeds\/rules$/)
    expect(Object.isFrozen(config) && Object.isFrozen(config.mqtt)).toBe(true)
  })

  it('reads InfluxDB settings and credentials', () => {
    expect(
      loadConfig({ SITEWARD_INFLUX_URL: 'http://influx:8086/', SITEWARD_INFLUX_TOKEN: 't' }).influx,
    ).toEqual({
      url: 'http://influx:8086',
      database: 'siteward',
      credentials: { kind: 'token', token: 't' },
    })
    expect(
      loadConfig({
        SITEWARD_INFLUX_URL: 'http://i',
        SITEWARD_INFLUX_DB: 'x',
        SITEWARD_INFLUX_USERNAME: 'u',
        SITEWARD_INFLUX_PASSWORD: 'p',
      }).influx?.credentials,
    ).toEqual({
      kind: 'basic',
      username: 'u',
      password: 'p',
    })
    expect(loadConfig({ SITEWARD_INFLUX_URL: '' }).influx).toBeNull()
  })

  it('reads escalation deadlines per severity, keeping the defaults for the others', () => {
    const { escalation } = loadConfig({
      SITEWARD_ACK_DEADLINES: 'critical=2m,alarm=10m',
      SITEWARD_RESOLVE_DEADLINES: 'warning=8h',
    })
    expect(escalation.acknowledgeWithinMs).toEqual({ critical: 120_000, alarm: 600_000, warning: 3_600_000 })
    expect(escalation.resolveWithinMs.warning).toBe(8 * 3_600_000)
    expect(() => loadConfig({ SITEWARD_ACK_DEADLINES: 'critical=soon' })).toThrow(
      /SITEWARD_ACK_DEADLINES: severity=duration pairs/,
    )
  })

  it('reads the reverse proxies to trust, and refuses what is not an address', () => {
    expect(loadConfig({ SITEWARD_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).http.trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
    ])
    expect(loadConfig({ SITEWARD_TRUST_PROXY: 'true' }).http.trustProxy).toBe(true)
    expect(loadConfig({}).http.trustProxy).toBe(false)
    expect(() => loadConfig({ SITEWARD_TRUST_PROXY: 'proxy.local' })).toThrow(
      /SITEWARD_TRUST_PROXY: expected true, false, or the proxies' IP addresses \/ CIDR ranges; not proxy\.local/,
    )
  })

  it('lists every problem as path: message, and never echoes a secret', () => {
    let error: unknown
    try {
      loadConfig({
        SITEWARD_HTTP_PORT: '-1',
        SITEWARD_INFLUX_URL: 'influx',
        SITEWARD_INFLUX_TOKEN: 'hunter2',
        SITEWARD_INFLUX_USERNAME: 'u',
        SITEWARD_WAL_COMMIT_MS: 'x',
      })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    const problems = (error as ConfigError).problems
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'SITEWARD_HTTP_PORT',
      'SITEWARD_INFLUX_URL',
      'SITEWARD_WAL_COMMIT_MS',
      'SITEWARD_INFLUX_PASSWORD',
      'SITEWARD_INFLUX_TOKEN',
    ])
    expect((error as Error).message).not.toContain('hunter2')
  })
})
