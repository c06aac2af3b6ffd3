/** Dead letters a device may leave in a burst, and how many a minute after that. */
export const deadLetterBurst = 20
export const deadLettersPerMinute = 10
/** A stored payload is cut here: enough to read what the device sent, not to fill the disk. */
export const deadLetterPayloadChars = 4_096
const maxTrackedDevices = 10_000
/** What is kept: the newest this many per device, none older than this. */
export const deadLetterRetention = { perDevice: 1_000, maxAgeMs: 30 * 86_400_000 } as const

/**
 * How many refused messages of a device are kept as dead letters: a token bucket per device,
 * timed by the messages' own `receivedAt`, so catching up on a long log judges the rate the device
 * sent at, not the rate the log is read back.
 * Refusals beyond it are still counted on the device (rejected count, last reason) and in
 * `siteward_dead_letters_total{outcome="not_stored"}`: a device sending garbage as fast as it
 * can fills neither the disk nor the console (issue 13: 262 MB in 20 s before).
 */
export class DeadLetterBudget {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()

  take(deviceId: string, at: number): boolean {
    let bucket = this.buckets.get(deviceId)
    if (bucket === undefined) {
      if (this.buckets.size >= maxTrackedDevices) {
        const oldest = this.buckets.keys().next().value
        if (oldest !== undefined) this.buckets.delete(oldest)
      }
      bucket = { tokens: deadLetterBurst, at }
      this.buckets.set(deviceId, bucket)
    }
    const refill = (Math.max(0, at - bucket.at) * deadLettersPerMinute) / 60_000
    bucket.tokens = Math.min(deadLetterBurst, bucket.tokens + refill)
    bucket.at = Math.max(bucket.at, at)
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }
}

/** The payload as stored: whole when short, else its start and how much was cut. */
export function storedPayload(raw: string): string {
  if (raw.length <= deadLetterPayloadChars) return raw
  return `${raw.slice(0, deadLetterPayloadChars)}… (${raw.length - deadLetterPayloadChars} more characters not kept)`
}
