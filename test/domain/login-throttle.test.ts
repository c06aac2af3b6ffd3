import { connect as connectTcp, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LoginThrottle } from '../../domain/login-throttle.js'
import { connackCode, startTestEngine, type TestEngine } from '../helpers/engine.js'

describe('login throttle (unit, fake clock)', () => {
  let now = 0
  const throttle = () =>
    new LoginThrottle({ now: () => now, baseDelayMs: 1_000, maxDelayMs: 8_000, maxHoldMs: 10_000 })

  it('answers the first 5 failures at once, then releases wrong answers one at a time, even in parallel', () => {
    now = 0
    const gate = throttle()
    for (let i = 0; i < 5; i++) expect(gate.failed('TC-01', `10.0.0.${i}`)).toBe(0)
    // Four wrong secrets at the same instant from four addresses: held one behind the other.
    const holds = ['10.0.0.6', '10.0.0.7', '10.0.0.8', '10.0.0.9'].map((address) =>
      gate.failed('TC-01', address),
    )
    expect(holds).toEqual([1_000, 3_000, 7_000, 10_000])
    expect(gate.failed('TC-02', '10.0.0.6')).toBe(0) // other ids are untouched
    now = 11 * 60_000 // a quiet window later the id starts afresh
    expect(gate.failed('TC-01', '10.0.0.1')).toBe(0)
  })

  it('holds every wrong answer to an address with 20 failures in 10 minutes, for 10 minutes', () => {
    now = 0
    const gate = throttle()
    for (let i = 0; i < 19; i++) expect(gate.failed(`guess-${i}`, '10.0.0.9')).toBe(0)
    expect(gate.failed('guess-19', '10.0.0.9')).toBe(10_000)
    expect(gate.isSlowed('10.0.0.9')).toBe(true)
    expect(gate.failed('guess-20', '10.0.0.9')).toBe(10_000)
    expect(gate.failed('guess-21', '10.0.0.8')).toBe(0)
    now = 10 * 60_000 + 1
    expect(gate.isSlowed('10.0.0.9')).toBe(false)
    expect(gate.failed('guess-22', '10.0.0.9')).toBe(0)
    // Failures spread wider than the window never add up.
    for (let i = 0; i < 40; i++) {
      now += 60_000
      expect(gate.failed(`slow-${i}`, '10.0.0.7')).toBe(0)
    }
  })

  it('remembers a bounded number of ids and addresses', () => {
    const gate = new LoginThrottle({ now: () => 0, maxTracked: 100 })
    for (let i = 0; i < 10_000; i++) gate.failed(`id-${i}`, `10.0.${i >> 8}.${i & 255}`)
    const internals = gate as unknown as { ids: Map<string, unknown>; addresses: Map<string, unknown> }
    expect(internals.ids.size).toBe(100)
    expect(internals.addresses.size).toBe(100)
  })
})

describe('device logins under attack (MQTT CONNECT over loopback addresses)', () => {
  let t: TestEngine
  let secret: string
  const halfOpen: Socket[] = []
  beforeAll(async () => {
    t = await startTestEngine({
      env: { SITEWARD_MQTT_MAX_UNAUTHENTICATED: '100', SITEWARD_MQTT_MAX_UNAUTHENTICATED_PER_ADDRESS: '32' },
    })
    secret = await t.addDevice('S1', 'TC-01', 'crane')
  })
  afterAll(async () => {
    for (const socket of halfOpen) socket.destroy()
    await t?.stop()
  })
  const attempt = (password: string, from: string, id = 'TC-01') =>
    connackCode(t.mqttUrl, { clientId: id, username: id, password }, from)
  const timed = async (login: Promise<number>) => {
    const started = Date.now()
    return { code: await login, ms: Date.now() - started }
  }
  /** A TCP connection that never sends CONNECT; resolves once open, reports when closed. */
  const openSilently = (from: string) =>
    new Promise<{ socket: Socket; closed: Promise<void> }>((resolve) => {
      const socket = connectTcp({ host: '127.0.0.1', port: t.engine.mqttPort, localAddress: from })
      const closed = new Promise<void>((done) => socket.once('close', () => done()))
      socket.on('error', () => undefined)
      socket.once('connect', () => resolve({ socket, closed }))
      halfOpen.push(socket)
    })

  it('lets the right secret in at once while 75 wrong ones for the same id are held, even from their address', async () => {
    const guesses = Array.from({ length: 75 }, (_, i) => attempt('wrong', `127.0.2.${(i % 25) + 1}`))
    let guessesAnswered = false
    void Promise.all(guesses).then(() => {
      guessesAnswered = true
    })
    await new Promise((resolve) => setTimeout(resolve, 500)) // the guesses are counted and held
    expect(await attempt(secret, '127.0.0.1')).toBe(0)
    expect(await attempt(secret, '127.0.2.1')).toBe(0) // the same NAT as a guesser
    // Both answered ahead of the held guesses: the right secret never queues behind them.
    expect(guessesAnswered).toBe(false)
    // The guessers got their answer, CONNACK 4, only after being held.
    const started = Date.now()
    const answers = await Promise.race([
      Promise.all(guesses),
      new Promise((r) => setTimeout(r, 1_000, 'held')),
    ])
    expect(answers).toBe('held')
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
  })

  it('slows a guesser: after 5 wrong secrets the next wrong answer waits', async () => {
    for (let i = 0; i < 5; i++) expect(await attempt('wrong', '127.0.3.1', 'TC-09')).toBe(4)
    const slowed = await timed(attempt('wrong', '127.0.3.1', 'TC-09'))
    expect(slowed.code).toBe(4)
    expect(slowed.ms).toBeGreaterThanOrEqual(900)
  })

  it('caps half-open connections per address, and keeps room for devices when every slot is taken', async () => {
    const flood = await Promise.all(Array.from({ length: 40 }, () => openSilently('127.0.4.1')))
    // Beyond 32 from one address the broker closes them at once.
    const refused = await Promise.race([
      Promise.any(flood.slice(32).map((s) => s.closed)).then(() => 'closed'),
      new Promise((r) => setTimeout(r, 2_000, 'open')),
    ])
    expect(refused).toBe('closed')
    // Four more addresses take every one of the 100 slots.
    const holders: { closed: Promise<void> }[] = []
    for (const host of ['127.0.4.2', '127.0.4.3', '127.0.4.4', '127.0.4.5'])
      holders.push(...(await Promise.all(Array.from({ length: 32 }, () => openSilently(host)))))
    let holdersClosed = 0
    for (const holder of holders)
      void holder.closed.then(() => {
        holdersClosed += 1
      })
    expect(await attempt(secret, '127.0.0.1')).toBe(0)
    // It got in by the eviction of the longest waiter, not by waiting out the 10 s connect
    // timeout: 160 sockets for 100 slots evicted the 60 oldest (the first address's 32 and 28 of
    // these), the device one more; the other 99 still hold theirs.
    expect(holders.length - holdersClosed).toBeGreaterThanOrEqual(64)
  })
})
