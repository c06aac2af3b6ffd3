/**
 * Slows password guessing against device logins, by device id and by network address.
 *
 * - Per device id: the first `freeFailures` wrong secrets cost nothing; after that attempts for
 *   the id are served one at a time, each at least `delay` after the previous one, the delay
 *   doubling from `baseDelayMs` to `maxDelayMs`. Parallel connections do not help an attacker:
 *   they queue. A rightful device is slowed, never locked out; one success resets the id.
 * - Per address: `addressMaxFailures` wrong logins within `windowMs` lock the address out for
 *   `addressLockoutMs` (refused without looking at the secret).
 *
 * Memory is bounded: at most `maxTracked` ids and addresses are remembered (the oldest go first).
 */
export interface LoginThrottleOptions {
  readonly now?: () => number
  readonly freeFailures?: number
  readonly baseDelayMs?: number
  readonly maxDelayMs?: number
  /** A queue longer than this is refused at once rather than held open. */
  readonly maxWaitMs?: number
  readonly addressMaxFailures?: number
  readonly windowMs?: number
  readonly addressLockoutMs?: number
  readonly maxTracked?: number
}

export type LoginGate =
  | { readonly kind: 'go'; readonly waitMs: number }
  | { readonly kind: 'refuse'; readonly reason: string }

interface DeviceRecord {
  failures: number
  nextSlot: number
}
interface AddressRecord {
  failures: number[]
  lockedUntil: number
}

export class LoginThrottle {
  private readonly options: Required<LoginThrottleOptions>
  private readonly devices = new Map<string, DeviceRecord>()
  private readonly addresses = new Map<string, AddressRecord>()

  constructor(options: LoginThrottleOptions = {}) {
    this.options = {
      now: Date.now,
      freeFailures: 5,
      baseDelayMs: 1_000,
      maxDelayMs: 30_000,
      maxWaitMs: 60_000,
      addressMaxFailures: 20,
      windowMs: 10 * 60_000,
      addressLockoutMs: 10 * 60_000,
      maxTracked: 10_000,
      ...options,
    }
  }

  /** Before the secret is checked: go (after `waitMs`), or refuse outright. */
  admit(deviceId: string, address: string): LoginGate {
    const now = this.options.now()
    const host = this.addresses.get(address)
    if (host !== undefined && host.lockedUntil > now) {
      const minutes = Math.ceil((host.lockedUntil - now) / 60_000)
      return {
        kind: 'refuse',
        reason: `too many failed logins from ${address}; locked for ${minutes} more min`,
      }
    }
    const device = this.devices.get(deviceId)
    if (device === undefined || device.failures < this.options.freeFailures) return { kind: 'go', waitMs: 0 }
    const slot = Math.max(now, device.nextSlot)
    if (slot - now > this.options.maxWaitMs)
      return { kind: 'refuse', reason: `too many failed logins for ${deviceId}; try again later` }
    device.nextSlot = slot + this.delayAfter(device.failures)
    return { kind: 'go', waitMs: slot - now }
  }

  failed(deviceId: string, address: string): void {
    const now = this.options.now()
    const device = remember(
      this.devices,
      deviceId,
      () => ({ failures: 0, nextSlot: 0 }),
      this.options.maxTracked,
    )
    device.failures += 1
    if (device.failures === this.options.freeFailures)
      device.nextSlot = now + this.delayAfter(device.failures)
    const host = remember(
      this.addresses,
      address,
      () => ({ failures: [], lockedUntil: 0 }),
      this.options.maxTracked,
    )
    host.failures = host.failures.filter((at) => now - at < this.options.windowMs)
    host.failures.push(now)
    if (host.failures.length >= this.options.addressMaxFailures) {
      host.lockedUntil = now + this.options.addressLockoutMs
      host.failures = []
    }
  }

  succeeded(deviceId: string): void {
    this.devices.delete(deviceId)
  }

  private delayAfter(failures: number): number {
    const doublings = Math.min(failures - this.options.freeFailures, 30)
    return Math.min(this.options.baseDelayMs * 2 ** doublings, this.options.maxDelayMs)
  }
}

function remember<V>(map: Map<string, V>, key: string, create: () => V, max: number): V {
  let value = map.get(key)
  if (value === undefined) {
    if (map.size >= max) {
      const oldest = map.keys().next().value
      if (oldest !== undefined) map.delete(oldest)
    }
    value = create()
    map.set(key, value)
  }
  return value
}
