/** A run of consecutive seqs seen from a device, with the span of their timestamps. */
export type SeqRange = [lo: number, hi: number, tsLo: number, tsHi: number]

const maxRangesPerDevice = 32

/**
 * Which `seq` values a device has already delivered, kept as a few ranges, so duplicates are
 * dropped (CONTRACT §2.1) even when backfill arrives after newer live data.
 *
 * A repeat is a seq inside a known range whose `ts` lies inside that range's timestamp span: a
 * resent message carries its original `ts`. A seq inside a range but with a `ts` after the span
 * means the device restarted its counter, so its history is reset instead of dropping new data.
 */
export class SeqRanges {
  private ranges: SeqRange[]

  constructor(ranges: SeqRange[] = []) {
    this.ranges = ranges
  }

  toJSON(): SeqRange[] {
    return this.ranges
  }

  isDuplicate(seq: number, ts: number): boolean {
    const range = this.rangeOf(seq)
    return range !== undefined && ts >= range[2] && ts <= range[3]
  }

  add(seq: number, ts: number): void {
    const containing = this.rangeOf(seq)
    if (containing !== undefined) {
      if (ts > containing[3])
        this.ranges = [[seq, seq, ts, ts]] // counter restarted
      else containing[2] = Math.min(containing[2], ts)
      return
    }
    let index = this.ranges.findIndex((range) => range[0] > seq)
    if (index === -1) index = this.ranges.length
    const before = this.ranges[index - 1]
    const after = this.ranges[index]
    if (before !== undefined && before[1] === seq - 1) {
      before[1] = seq
      widen(before, ts)
      if (after !== undefined && after[0] === seq + 1) {
        before[1] = after[1]
        widen(before, after[2])
        widen(before, after[3])
        this.ranges.splice(index, 1)
      }
    } else if (after !== undefined && after[0] === seq + 1) {
      after[0] = seq
      widen(after, ts)
    } else {
      this.ranges.splice(index, 0, [seq, seq, ts, ts])
      if (this.ranges.length > maxRangesPerDevice) this.ranges.shift()
    }
  }

  private rangeOf(seq: number): SeqRange | undefined {
    for (const range of this.ranges) {
      if (seq >= range[0] && seq <= range[1]) return range
    }
    return undefined
  }
}

function widen(range: SeqRange, ts: number): void {
  if (ts < range[2]) range[2] = ts
  if (ts > range[3]) range[3] = ts
}
