import {
  closeSync,
  fdatasync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  unlinkSync,
  writeSync,
  writev,
} from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { LogRecord, PositionedRecord } from '../../domain/log-record.js'
import type { WriteAheadLog } from '../../domain/ports.js'
import { encodeFrame, scanFrame } from './frame.js'
import {
  durableMarkerName,
  listSegments,
  readSegmentFrames,
  type Segment,
  segmentAt,
  segmentPath,
} from './segment-files.js'

export interface SegmentLogOptions {
  readonly dir: string
  /** A new segment starts once the active one reaches this size. */
  readonly segmentBytes: number
  /** Extra time an idle log waits to gather a batch before it writes and fsyncs. */
  readonly lingerMs: number
  readonly logger: Logger
}

interface PendingAppend {
  readonly frame: Buffer
  readonly position: number
  /** Called once: with null after the fdatasync, or with the error that stopped the log. */
  readonly done: (error: Error | null, position: number) => void
}

/**
 * The write-ahead log: an append-only sequence of segment files holding CRC-checked frames,
 * addressed by global byte position. Appends are group-committed: frames gathered while the
 * previous batch is being written (or during `lingerMs`) go out in one writev + fdatasync, and
 * every append of the batch resolves only after the fdatasync, so a resolved append survives
 * SIGKILL and power loss. fsync runs on libuv's thread pool, never on the event loop.
 *
 * There is one writer (the edge role). Readers in other threads or processes (the worker role,
 * `LogReader`) read up to the durable end the writer publishes after every fdatasync, in a file
 * beside the segments that they poll. (A BroadcastChannel post per commit, even at most one
 * every 5 ms, cost the edge thread 15 % of its time at city load; an 8-byte pread every 5 ms
 * costs a reader almost nothing.) It keeps no
 * decoded copy of what it wrote: its readers are elsewhere, and a cache of the last 50,000
 * records kept every record alive into the old generation, so the edge thread spent a quarter
 * of its time collecting garbage at province load (BENCHMARKS.md, issue 14).
 */
export class SegmentLog implements WriteAheadLog {
  private readonly options: SegmentLogOptions
  private segments: Segment[] = []
  private fd = -1
  private nextPosition = 0
  private durableEnd = 0
  private pending: PendingAppend[] = []
  private flushing: Promise<void> | null = null
  private flushScheduled = false
  private readonly listeners = new Set<() => void>()
  private failure: Error | null = null
  private stopped = false
  private markerFd = -1
  private readonly marker = Buffer.alloc(8)
  private markerFailing = false
  private inFlight = 0
  private readonly stats = { commits: 0, records: 0, seconds: 0, slowestSeconds: 0 }

  constructor(options: SegmentLogOptions) {
    this.options = options
  }

  get endPosition(): number {
    return this.durableEnd
  }

  /** Bytes on disk across all segments (for the log-depth gauge and the size bound). */
  get diskBytes(): number {
    return this.segments.reduce((sum, segment) => sum + segment.size, 0)
  }

  /** Appends not yet on disk: their PUBACKs wait for the commit in progress or the next one. */
  get unacknowledged(): number {
    return this.inFlight + this.pending.length
  }

  /**
   * Group commits so far, the records they held and the time their writev + fdatasync took;
   * `slowestSeconds` is the slowest since the last call (for /metrics: a stalling disk shows).
   */
  takeCommitStats(): { commits: number; records: number; seconds: number; slowestSeconds: number } {
    const taken = { ...this.stats }
    this.stats.slowestSeconds = 0
    return taken
  }

  /** The write error that stopped the log, if any: from then on every append is refused. */
  get failed(): Error | null {
    return this.failure
  }

  get firstPosition(): number {
    return this.segments[0]?.base ?? 0
  }

  start(): void {
    mkdirSync(this.options.dir, { recursive: true })
    this.segments = listSegments(this.options.dir)
    const last = this.segments.at(-1)
    if (last === undefined) {
      this.openSegment(0)
    } else {
      this.recoverTail(last)
      this.fd = openSync(last.path, 'r+')
    }
    const active = this.activeSegment()
    this.nextPosition = active.base + active.size
    this.durableEnd = this.nextPosition
    this.markerFd = openSync(join(this.options.dir, durableMarkerName), 'w')
    this.publishDurableEnd()
  }

  append(record: LogRecord): Promise<number> {
    return new Promise<number>((resolve, reject) =>
      this.enqueue(JSON.stringify(record), (error, position) =>
        error === null ? resolve(position) : reject(error),
      ),
    )
  }

  appendThen(record: LogRecord, done: (error: Error | null) => void): void {
    this.enqueue(JSON.stringify(record), done)
  }

  appendJsonThen(json: string, done: (error: Error | null) => void): void {
    this.enqueue(json, done)
  }

  private enqueue(json: string, done: PendingAppend['done']): void {
    const refusal = this.failure ?? (this.stopped ? new Error('write-ahead log is stopped') : null)
    if (refusal !== null) {
      // Never synchronously: a caller's callback must not run inside its own call.
      process.nextTick(() => this.settle(done, refusal, -1))
      return
    }
    const frame = encodeFrame(json)
    const position = this.nextPosition
    this.nextPosition += frame.length
    this.pending.push({ frame, position, done })
    this.scheduleFlush()
  }

  readFrom(position: number, maxRecords: number): { records: PositionedRecord[]; next: number } {
    const records: PositionedRecord[] = []
    let cursor = Math.max(position, this.firstPosition)
    while (records.length < maxRecords && cursor < this.durableEnd) {
      const segment = segmentAt(this.segments, cursor)
      if (segment === undefined) break
      const segmentEnd = Math.min(segment.base + segment.size, this.durableEnd)
      const next = readSegmentFrames(
        segment,
        cursor,
        segmentEnd,
        maxRecords,
        (offset, length) => this.readBytes(segment, offset, length),
        records,
      )
      if (next === cursor) break
      cursor = next
    }
    return { records, next: cursor }
  }

  onCommit(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Deletes whole segments that end at or before `position` (never the active one). */
  trimBefore(position: number): number {
    let removed = 0
    while (this.segments.length > 1) {
      const first = this.segments[0]
      const second = this.segments[1]
      if (first === undefined || second === undefined || second.base > position) break
      unlinkSync(first.path)
      this.segments.shift()
      removed += 1
    }
    return removed
  }

  /** Waits until every append made so far is on disk. */
  async flush(): Promise<void> {
    while (this.flushing !== null || this.pending.length > 0) {
      if (this.flushing === null) this.startFlush()
      await this.flushing
    }
  }

  async stop(): Promise<void> {
    await this.flush()
    this.stopped = true
    await this.flush()
    if (this.fd >= 0) closeSync(this.fd)
    this.fd = -1
    if (this.markerFd >= 0) closeSync(this.markerFd)
    this.markerFd = -1
  }

  /**
   * After an fdatasync, readers (other threads, other processes) may read up to here. A failed
   * write of the marker only delays them until the next commit's; it never holds a PUBACK.
   */
  private publishDurableEnd(): void {
    try {
      this.marker.writeBigUInt64LE(BigInt(this.durableEnd))
      writeSync(this.markerFd, this.marker, 0, 8, 0)
      this.markerFailing = false
    } catch (error) {
      // Once per run of failures: a full disk would otherwise log it at every commit.
      if (!this.markerFailing)
        this.options.logger.error({ err: error }, 'write-ahead log: could not write its durable end marker')
      this.markerFailing = true
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing !== null) return
    this.flushScheduled = true
    const run = () => {
      this.flushScheduled = false
      if (this.flushing === null) this.startFlush()
    }
    if (this.options.lingerMs > 0) setTimeout(run, this.options.lingerMs)
    else setImmediate(run)
  }

  private startFlush(): void {
    const batch = this.pending
    this.pending = []
    if (batch.length === 0) return
    this.inFlight = batch.length
    const startedAt = performance.now()
    this.flushing = this.writeBatch(batch)
      .then(
        () => {
          this.countCommit(batch.length, (performance.now() - startedAt) / 1000)
          const last = batch.at(-1)
          if (last !== undefined) this.durableEnd = last.position + last.frame.length
          for (const append of batch) this.settle(append.done, null, append.position)
          this.publishDurableEnd()
          for (const listener of this.listeners) listener()
        },
        (error: unknown) => {
          // A failed write leaves the file in an unknown state: refuse everything from now on
          // rather than acknowledge what may not be on disk.
          this.failure = error instanceof Error ? error : new Error(String(error))
          this.options.logger.fatal(
            { err: this.failure },
            'write-ahead log write failed; refusing new messages',
          )
          for (const append of [...batch, ...this.pending]) this.settle(append.done, this.failure, -1)
          this.pending = []
        },
      )
      .finally(() => {
        this.inFlight = 0
        this.flushing = null
        if (this.pending.length > 0) this.startFlush()
      })
  }

  /**
   * One append's callback. One that throws must not keep the rest of its batch from their
   * PUBACKs, nor the log from its next commit: it is logged and the others go on.
   */
  private settle(done: PendingAppend['done'], error: Error | null, position: number): void {
    try {
      done(error, position)
    } catch (thrown) {
      this.options.logger.error({ err: thrown }, "write-ahead log: an append's callback threw")
    }
  }

  private countCommit(records: number, seconds: number): void {
    this.stats.commits += 1
    this.stats.records += records
    this.stats.seconds += seconds
    this.stats.slowestSeconds = Math.max(this.stats.slowestSeconds, seconds)
  }

  private async writeBatch(batch: readonly PendingAppend[]): Promise<void> {
    const first = batch[0]
    if (first === undefined) return
    let active = this.activeSegment()
    if (active.size >= this.options.segmentBytes) {
      closeSync(this.fd)
      this.openSegment(first.position)
      active = this.activeSegment()
    }
    const frames = batch.map((append) => append.frame)
    const bytes = frames.reduce((sum, frame) => sum + frame.length, 0)
    await writeAll(this.fd, frames, first.position - active.base)
    await new Promise<void>((resolve, reject) =>
      fdatasync(this.fd, (error) => (error ? reject(error) : resolve())),
    )
    active.size += bytes
  }

  private openSegment(base: number): void {
    const path = segmentPath(this.options.dir, base)
    this.fd = openSync(path, 'w+')
    this.segments.push({ base, path, size: 0 })
    // The new file's directory entry must be durable too, or a crash could lose the whole segment.
    const dirFd = openSync(this.options.dir, 'r')
    try {
      fsyncSync(dirFd)
    } finally {
      closeSync(dirFd)
    }
  }

  /** After a crash the last segment may end in a torn frame: keep the intact prefix only. */
  private recoverTail(segment: Segment): void {
    const fd = openSync(segment.path, 'r+')
    try {
      const buffer = Buffer.alloc(segment.size)
      readSync(fd, buffer, 0, segment.size, 0)
      let offset = 0
      for (;;) {
        const scan = scanFrame(buffer, offset)
        if (scan.kind !== 'frame') break
        offset += scan.frameLength
      }
      if (offset < segment.size) {
        this.options.logger.warn(
          { segment: segment.path, keptBytes: offset, droppedBytes: segment.size - offset },
          'write-ahead log: dropping a torn tail left by a crash (those messages were never acknowledged)',
        )
        ftruncateSync(fd, offset)
        fsyncSync(fd)
        segment.size = offset
      }
    } finally {
      closeSync(fd)
    }
  }

  private activeSegment(): Segment {
    const active = this.segments.at(-1)
    if (active === undefined) throw new Error('write-ahead log is not started')
    return active
  }

  private readBytes(segment: Segment, offset: number, length: number): Buffer {
    const buffer = Buffer.allocUnsafe(length)
    const fd = segment === this.activeSegment() && this.fd >= 0 ? this.fd : openSync(segment.path, 'r')
    try {
      const read = readSync(fd, buffer, 0, length, offset)
      return buffer.subarray(0, read)
    } finally {
      if (fd !== this.fd) closeSync(fd)
    }
  }
}

function writeAll(fd: number, frames: Buffer[], offset: number): Promise<void> {
  return new Promise((resolve, reject) => {
    writev(fd, frames, offset, (error, written) => {
      if (error) return reject(error)
      const expected = frames.reduce((sum, frame) => sum + frame.length, 0)
      if (written === expected) return resolve()
      // A short write: finish the remainder from where it stopped.
      const rest = Buffer.concat(frames).subarray(written)
      writeAll(fd, [rest], offset + written).then(resolve, reject)
    })
  })
}
