/**
 * Slows guessing of device secrets and API tokens without ever slowing the rightful owner.
 *
 * The credential is checked first (a SHA-256 comparison, cheap): a right one is let in at once,
 * whatever others have guessed. Only the answer to a wrong one is held back, so a guesser learns
 * nothing faster than the throttle allows, and a device whose id is being guessed from elsewhere
 * (or from behind the same NAT) still logs in. The hold is decided in the same synchronous step
 * that counts the failure, so parallel guesses cannot slip past it.
 *
 * - Per id (a device id, or an address for tokens): the first `freeFailures` wrong answers come
 *   at once; after that they are released one at a time, each `delay` after the previous, the
 *   delay doubling from `baseDelayMs` to `maxDelayMs`. An id's failures are forgotten after
 *   `windowMs` without one.
 * - Per address: `addressMaxFailures` wrong logins within `windowMs` make every further wrong
 *   answer to the address wait `maxHoldMs`, for `addressLockoutMs`.
 *
 * Holding an answer holds a connection: the broker caps connections waiting to log in per
 * address, the API caps requests per address, so the hold bounds the guessing rate.
 * Memory is bounded: at most `maxTracked` ids and addresses are remembered (the oldest go first).
 */
export interface LoginThrottleOptions {
  readonly now?: () => number
  readonly freeFailures?: number
  readonly baseDelayMs?: number
  readonly maxDelayMs?: number
  /** No wrong answer waits longer than this. */
  readonly maxHoldMs?: number
  readonly addressMaxFailures?: number
  readonly windowMs?: number
  readonly addressLockoutMs?: number
  readonly maxTracked?: number
}

interface IdRecord {
  failures: number
  lastFailure: number
  nextRelease: number
}
interface AddressRecord {
  failures: number[]
  slowUntil: number
}

export class LoginThrottle {
  private readonly options: Required<LoginThrottleOptions>
  private readonly ids = new Map<string, IdRecord>()
  private readonly addresses = new Map<string, AddressRecord>()

  constructor(options: LoginThrottleOptions = {}) {
    this.options = {
      now: Date.now,
      freeFailures: 5,
      baseDelayMs: 1_000,
      maxDelayMs: 30_000,
      maxHoldMs: 30_000,
      addressMaxFailures: 20,
      windowMs: 10 * 60_000,
      addressLockoutMs: 10 * 60_000,
      maxTracked: 10_000,
      ...options,
    }
  }

  /** Counts a wrong credential for `id` from `address`; returns how long to hold the answer (ms). */
  failed(id: string, address: string): number {
    const now = this.options.now()
    return Math.min(this.options.maxHoldMs, Math.max(this.idHold(id, now), this.addressHold(address, now)))
  }

  /** Whether the address is being slowed (for logs and metrics). */
  isSlowed(address: string): boolean {
    return (this.addresses.get(address)?.slowUntil ?? 0) > this.options.now()
  }

  private idHold(id: string, now: number): number {
    const record = remember(
      this.ids,
      id,
      () => ({ failures: 0, lastFailure: 0, nextRelease: 0 }),
      this.options,
    )
    if (now - record.lastFailure > this.options.windowMs) record.failures = 0
    record.failures += 1
    record.lastFailure = now
    if (record.failures <= this.options.freeFailures) return 0
    const doublings = Math.min(record.failures - this.options.freeFailures - 1, 30)
    const delay = Math.min(this.options.baseDelayMs * 2 ** doublings, this.options.maxDelayMs)
    record.nextRelease = Math.min(Math.max(now, record.nextRelease) + delay, now + this.options.maxHoldMs)
    return record.nextRelease - now
  }

  private addressHold(address: string, now: number): number {
    const record = remember(this.addresses, address, () => ({ failures: [], slowUntil: 0 }), this.options)
    if (record.slowUntil > now) return this.options.maxHoldMs
    record.failures = record.failures.filter((at) => now - at < this.options.windowMs)
    record.failures.push(now)
    if (record.failures.length < this.options.addressMaxFailures) return 0
    record.slowUntil = now + this.options.addressLockoutMs
    record.failures = []
    return this.options.maxHoldMs
  }
}

function remember<V>(map: Map<string, V>, key: string, create: () => V, options: { maxTracked: number }): V {
  let value = map.get(key)
  if (value === undefined) {
    if (map.size >= options.maxTracked) {
      const oldest = map.keys().next().value
      if (oldest !== undefined) map.delete(oldest)
    }
    value = create()
    map.set(key, value)
  }
  return value
}
