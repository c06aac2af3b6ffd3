/**
 * Ingest's answer to a write-ahead log that is filling up (the telemetry store has been down for
 * a long time): nothing acknowledged is ever dropped, so the only choices are to slow devices
 * down and, at the limit, to stop taking new messages. Below `softFraction` of the limit every
 * message is accepted at once; between it and the limit the PUBACK is delayed, longer the fuller
 * the log (a device with a bounded in-flight window slows down, and Aedes reads nothing more from
 * that connection meanwhile); at the limit new publishes are refused and the device resends later.
 */
export type Pressure =
  | { readonly kind: 'accept' }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'refuse'; readonly reason: string }

export interface BackpressureOptions {
  /** Bytes of log on disk (not yet trimmed: some consumer still needs them). */
  readonly diskBytes: () => number
  readonly maxBytes: number
  readonly softFraction?: number
  readonly maxDelayMs?: number
}

const accept: Pressure = { kind: 'accept' }

export class Backpressure {
  private readonly options: Required<BackpressureOptions>

  constructor(options: BackpressureOptions) {
    this.options = { softFraction: 0.8, maxDelayMs: 1_000, ...options }
  }

  /** How full the log is, 0 (empty) to 1 (at the limit) or more. */
  get fullness(): number {
    return this.options.diskBytes() / this.options.maxBytes
  }

  decide(): Pressure {
    const { softFraction, maxDelayMs, maxBytes } = this.options
    const fullness = this.fullness
    if (fullness < softFraction) return accept
    if (fullness >= 1) {
      const mb = Math.round(maxBytes / 1024 / 1024)
      return {
        kind: 'refuse',
        reason: `the write-ahead log is full (${mb} MB, SITEWARD_WAL_MAX_MB): the telemetry store is behind; resend later`,
      }
    }
    const ms = Math.ceil(((fullness - softFraction) / (1 - softFraction)) * maxDelayMs)
    return ms <= 0 ? accept : { kind: 'delay', ms }
  }

  describe(): string {
    const pressure = this.decide()
    const percent = `${(this.fullness * 100).toFixed(1)} % of SITEWARD_WAL_MAX_MB`
    if (pressure.kind === 'accept') return `${percent}: accepting`
    if (pressure.kind === 'delay') return `${percent}: delaying PUBACKs by ${pressure.ms} ms`
    return `${percent}: refusing new publishes until the telemetry store catches up`
  }
}
