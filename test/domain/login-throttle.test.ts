import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LoginThrottle } from '../../src/domain/login-throttle.js'
import { connackCode, startTestEngine, type TestEngine } from '../helpers/engine.js'

describe('login throttle (unit, fake clock)', () => {
  let now = 0
  const throttle = () =>
    new LoginThrottle({ now: () => now, baseDelayMs: 1_000, maxDelayMs: 8_000, maxWaitMs: 10_000 })

  it('lets the first 5 failures through at once, then serves one attempt per growing delay, even in parallel', () => {
    now = 0
    const gate = throttle()
    for (let i = 0; i < 5; i++) {
      expect(gate.admit('TC-01', '10.0.0.1')).toEqual({ kind: 'go', waitMs: 0 })
      gate.failed('TC-01', '10.0.0.1')
    }
    // Three attempts at the same instant from three addresses queue one behind the other.
    const waits = ['10.0.0.2', '10.0.0.3', '10.0.0.4'].map((address) => gate.admit('TC-01', address))
    expect(waits).toEqual([
      { kind: 'go', waitMs: 1_000 },
      { kind: 'go', waitMs: 2_000 },
      { kind: 'go', waitMs: 3_000 },
    ])
    now = 3_000
    gate.failed('TC-01', '10.0.0.2')
    // 6 failures: the delay doubled to 2 s. A queue beyond maxWaitMs is refused outright.
    const later = Array.from({ length: 7 }, () => gate.admit('TC-01', '10.0.0.5'))
    expect(later.map((g) => (g.kind === 'go' ? g.waitMs : g.kind))).toEqual([
      1_000,
      3_000,
      5_000,
      7_000,
      9_000,
      'refuse',
      'refuse',
    ])
    expect(gate.admit('TC-02', '10.0.0.5')).toEqual({ kind: 'go', waitMs: 0 }) // other ids are untouched
    gate.succeeded('TC-01')
    expect(gate.admit('TC-01', '10.0.0.1')).toEqual({ kind: 'go', waitMs: 0 })
  })

  it('locks an address out after 20 failures within 10 minutes, for 10 minutes', () => {
    now = 0
    const gate = throttle()
    for (let i = 0; i < 19; i++) gate.failed(`guess-${i}`, '10.0.0.9')
    expect(gate.admit('TC-01', '10.0.0.9').kind).toBe('go')
    gate.failed('guess-19', '10.0.0.9')
    expect(gate.admit('TC-01', '10.0.0.9')).toMatchObject({
      kind: 'refuse',
      reason: /locked for 10 more min/,
    })
    expect(gate.admit('TC-01', '10.0.0.8').kind).toBe('go')
    now = 10 * 60_000
    expect(gate.admit('TC-01', '10.0.0.9').kind).toBe('go')
    // Failures spread wider than the window never add up to a lockout.
    for (let i = 0; i < 40; i++) {
      now += 60_000
      gate.failed(`slow-${i}`, '10.0.0.7')
    }
    expect(gate.admit('TC-01', '10.0.0.7').kind).toBe('go')
  })

  it('remembers a bounded number of ids and addresses', () => {
    const gate = new LoginThrottle({ now: () => 0, maxTracked: 100 })
    for (let i = 0; i < 10_000; i++) gate.failed(`id-${i}`, `10.0.${i >> 8}.${i & 255}`)
    const internals = gate as unknown as { devices: Map<string, unknown>; addresses: Map<string, unknown> }
    expect(internals.devices.size).toBe(100)
    expect(internals.addresses.size).toBe(100)
  })
})

describe('login throttle in the broker (MQTT CONNECT over loopback addresses)', () => {
  let t: TestEngine
  let secret: string
  beforeAll(async () => {
    t = await startTestEngine()
    secret = t.addDevice('S1', 'TC-01', 'crane')
  })
  afterAll(async () => {
    await t?.stop()
  })
  const attempt = (password: string, from: string, id = 'TC-01') =>
    connackCode(t.mqttUrl, { clientId: id, username: id, password }, from)

  it('locks out an address that keeps guessing, while the device logs in from its own address', async () => {
    for (let i = 0; i < 20; i++) expect(await attempt('wrong', '127.0.0.9', `GUESS-${i}`)).toBe(4)
    expect(await attempt(secret, '127.0.0.9')).toBe(4) // even the right secret: the address is locked
    expect(t.lines.some((l) => /too many failed logins from 127\.0\.0\.9/.test(String(l.reason)))).toBe(true)
    expect(await attempt(secret, '127.0.0.1')).toBe(0)
  })

  it('slows guessing of one device id without locking the device out', async () => {
    for (let i = 0; i < 5; i++) expect(await attempt('wrong', '127.0.0.10')).toBe(4)
    const started = Date.now()
    expect(await attempt(secret, '127.0.0.1')).toBe(0) // served after the id's delay, then accepted
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
  })
})
