/**
 * At most one log line per key per interval (CONTRACT: a misbehaving device is logged once per
 * minute at most), reporting how many were suppressed in between.
 */
export class ThrottledLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>()
  private readonly intervalMs: number

  constructor(intervalMs: number) {
    this.intervalMs = intervalMs
  }

  /** Calls `write` with the count suppressed since the last line, or counts this one as suppressed. */
  maybe(key: string, now: number, write: (suppressed: number) => void): void {
    const entry = this.last.get(key)
    if (entry !== undefined && now - entry.at < this.intervalMs) {
      entry.suppressed += 1
      return
    }
    write(entry?.suppressed ?? 0)
    this.last.set(key, { at: now, suppressed: 0 })
    if (this.last.size > 100_000) this.last.clear() // bounded memory under a flood of keys
  }
}
