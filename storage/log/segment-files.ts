import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { LogRecord, PositionedRecord } from '../../domain/log-record.js'
import { scanFrame } from './frame.js'

const segmentSuffix = '.seg'
/** The writer's durable end (8 bytes, little-endian), rewritten after every fdatasync. */
export const durableMarkerName = 'durable'
const readChunkBytes = 1024 * 1024

export interface Segment {
  readonly base: number
  readonly path: string
  size: number
}

/** The log's segment files in position order, with their sizes now. */
export function listSegments(dir: string): Segment[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(segmentSuffix))
    .map((name) => ({ base: Number.parseInt(name, 10), path: join(dir, name), size: 0 }))
    .filter((segment) => Number.isSafeInteger(segment.base))
    .sort((a, b) => a.base - b.base)
    .map((segment) => ({ ...segment, size: statSync(segment.path).size }))
}

/** The segment holding `position`: the last one that starts at or before it. */
export function segmentAt(segments: readonly Segment[], position: number): Segment | undefined {
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i]
    if (segment !== undefined && segment.base <= position) return segment
  }
  return undefined
}

export const segmentPath = (dir: string, base: number) =>
  join(dir, `${String(base).padStart(20, '0')}${segmentSuffix}`)

/**
 * Decodes the frames of one segment from `cursor` up to `end` (exclusive), at most `maxRecords`
 * of them, into `into`; returns where it stopped. `read(offset, length)` reads the segment's bytes.
 */
export function readSegmentFrames(
  segment: Segment,
  cursor: number,
  end: number,
  maxRecords: number,
  read: (offset: number, length: number) => Buffer,
  into: PositionedRecord[],
): number {
  const length = Math.min(readChunkBytes, end - cursor)
  let chunk = read(cursor - segment.base, length)
  if (chunk.length === 0) return cursor // the segment ends here (the writer moved on)
  let offset = 0
  while (into.length < maxRecords && offset < chunk.length) {
    const scan = scanFrame(chunk, offset)
    if (scan.kind === 'incomplete') {
      if (offset > 0) break // read the rest from the frame's start
      if (chunk.length >= scan.needBytes) throw new Error(`write-ahead log: unreadable frame at ${cursor}`)
      chunk = read(cursor - segment.base, scan.needBytes)
      if (chunk.length < scan.needBytes) throw new Error(`write-ahead log: truncated frame at ${cursor}`)
      continue
    }
    if (scan.kind === 'corrupt')
      throw new Error(`write-ahead log corrupt at position ${cursor + offset}: ${scan.reason}`)
    into.push({ position: cursor + offset, record: JSON.parse(scan.payload.toString('utf8')) as LogRecord })
    offset += scan.frameLength
  }
  return cursor + offset
}
