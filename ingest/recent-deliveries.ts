/** How many of its last objects a device is remembered by: a resend beyond this is stored again. */
export const deliveriesPerDevice = 256

/**
 * The last objects a device delivered, each as its `seq` with its original `ts`, so a resend is
 * dropped as a duplicate (CONTRACT §2.1) and nothing else is.
 *
 * A duplicate is exactly a seq seen before with the same ts: never a seq inside a range of seen
 * seqs. A range claim let one message of seqs with alternating old and future ts declare a whole
 * window delivered and hide the device's genuine readings that followed. A restarted counter
 * needs no special case: its seqs come with new timestamps.
 */
export class RecentDeliveries {
  private readonly seqs = new Float64Array(deliveriesPerDevice)
  private readonly stamps = new Float64Array(deliveriesPerDevice)
  private size = 0
  private next = 0

  /** From {@link toJSON}; anything else (the seq ranges of v0.3 and earlier) starts empty. */
  static fromJSON(value: unknown): RecentDeliveries {
    const deliveries = new RecentDeliveries()
    if (typeof value !== 'object' || value === null || !('deltas' in value)) return deliveries
    const deltas = (value as { deltas: unknown }).deltas
    if (!Array.isArray(deltas)) return deliveries
    let seq = 0
    let ts = 0
    for (let i = 0; i + 1 < deltas.length; i += 2) {
      seq += Number(deltas[i])
      ts += Number(deltas[i + 1])
      if (Number.isSafeInteger(seq) && Number.isFinite(ts)) deliveries.add(seq, ts)
    }
    return deliveries
  }

  /** Oldest first, each seq and ts as a difference from the one before: small to store. */
  toJSON(): { deltas: number[] } {
    const deltas: number[] = []
    let seq = 0
    let ts = 0
    const first = this.size < deliveriesPerDevice ? 0 : this.next
    for (let n = 0; n < this.size; n++) {
      const slot = (first + n) % deliveriesPerDevice
      deltas.push((this.seqs[slot] as number) - seq, (this.stamps[slot] as number) - ts)
      seq = this.seqs[slot] as number
      ts = this.stamps[slot] as number
    }
    return { deltas }
  }

  has(seq: number, ts: number): boolean {
    for (let slot = 0; slot < this.size; slot++) {
      if (this.seqs[slot] === seq && this.stamps[slot] === ts) return true
    }
    return false
  }

  add(seq: number, ts: number): void {
    this.seqs[this.next] = seq
    this.stamps[this.next] = ts
    this.next = (this.next + 1) % deliveriesPerDevice
    if (this.size < deliveriesPerDevice) this.size += 1
  }
}
