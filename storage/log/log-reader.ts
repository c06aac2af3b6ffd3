import { closeSync, existsSync, openSync, readSync } from 'node:fs'
import { join } from 'node:path'
import type { PositionedRecord } from '../../domain/log-record.js'
import type { ReadableLog } from '../../domain/ports.js'
import {
  durableMarkerName,
  listSegments,
  readSegmentFrames,
  type Segment,
  segmentAt,
} from './segment-files.js'

/**
 * The writer says how far the log is durable only in its marker file: look this often. A new
 * record waits at most this long to be read (the rules see a breach that much later); an 8-byte
 * pread 200 times a second is about 1 ms of CPU a second.
 */
const markerPollMs = 5

/**
 * The reading side of the write-ahead log, for a role that does not write it (the worker, another
 * thread or process than the edge). It reads only up to the durable end the writer published, so
 * it never sees a record that a crash could still take back, and never a half-written frame.
 * Segments it has not seen yet are found when the cursor reaches them; the writer trims.
 */
export class LogReader implements ReadableLog {
  private readonly dir: string
  private segments: Segment[] = []
  private durableEnd = 0
  private readonly listeners = new Set<() => void>()
  private readonly marker = Buffer.alloc(8)
  private timer: NodeJS.Timeout | null = null
  private open: { segment: Segment; fd: number } | null = null
  private notifying = false
  private markerFd = -1

  constructor(dir: string) {
    this.dir = dir
  }

  get endPosition(): number {
    return this.durableEnd
  }

  start(): void {
    this.rescan()
    this.readMarker()
    this.timer = setInterval(() => this.readMarker(), markerPollMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.closeOpen()
    if (this.markerFd >= 0) closeSync(this.markerFd)
    this.markerFd = -1
  }

  onCommit(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  readFrom(position: number, maxRecords: number): { records: PositionedRecord[]; next: number } {
    this.readMarker()
    const records: PositionedRecord[] = []
    let cursor = position
    let rescanned = false
    while (records.length < maxRecords && cursor < this.durableEnd) {
      const segment = segmentAt(this.segments, cursor)
      const next = segment === undefined ? cursor : this.readSegment(segment, cursor, maxRecords, records)
      if (next > cursor) {
        cursor = next
        rescanned = false
        continue
      }
      if (rescanned)
        throw new Error(
          `write-ahead log: no segment holds position ${cursor} (trimmed, or the folder replaced)`,
        )
      this.rescan() // a segment opened since the last listing
      rescanned = true
    }
    return { records, next: cursor }
  }

  private readSegment(segment: Segment, cursor: number, maxRecords: number, into: PositionedRecord[]) {
    // The last segment listed runs to the durable end, unless the writer has moved on since.
    const end = segment === this.segments.at(-1) ? this.durableEnd : segment.base + segment.size
    if (end <= cursor) return cursor
    const read = (offset: number, length: number) => this.readBytes(segment, offset, length)
    return readSegmentFrames(segment, cursor, end, maxRecords, read, into)
  }

  /** Listeners hear of it on the next turn: never inside a `readFrom` that found it. */
  private advance(end: number): void {
    if (!(end > this.durableEnd)) return
    this.durableEnd = end
    if (this.notifying) return
    this.notifying = true
    setImmediate(() => {
      this.notifying = false
      for (const listener of this.listeners) listener()
    })
  }

  /** The writer rewrites the marker in place, so its file stays open here once it exists. */
  private readMarker(): void {
    if (this.markerFd < 0) {
      const path = join(this.dir, durableMarkerName)
      if (!existsSync(path)) return
      this.markerFd = openSync(path, 'r')
    }
    if (readSync(this.markerFd, this.marker, 0, 8, 0) === 8)
      this.advance(Number(this.marker.readBigUInt64LE()))
  }

  private rescan(): void {
    if (existsSync(this.dir)) this.segments = listSegments(this.dir)
    if (this.open !== null && !this.segments.some((s) => s.path === this.open?.segment.path)) this.closeOpen()
  }

  private readBytes(segment: Segment, offset: number, length: number): Buffer {
    if (this.open?.segment.path !== segment.path) {
      this.closeOpen()
      this.open = { segment, fd: openSync(segment.path, 'r') }
    }
    const buffer = Buffer.allocUnsafe(length)
    const read = readSync(this.open.fd, buffer, 0, length, offset)
    return buffer.subarray(0, read)
  }

  private closeOpen(): void {
    if (this.open !== null) closeSync(this.open.fd)
    this.open = null
  }
}
