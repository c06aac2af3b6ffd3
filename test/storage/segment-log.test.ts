import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SegmentLog } from '../../storage/log/segment-log.js'
import { presenceRecord } from '../helpers/log-records.js'
import { memoryLogger } from '../helpers/log-sink.js'

const presence = presenceRecord

describe('SegmentLog (write-ahead log)', () => {
  let dir: string
  const open = (segmentBytes = 1024 * 1024, lingerMs = 0) => {
    const log = new SegmentLog({ dir, segmentBytes, lingerMs, logger: memoryLogger().logger })
    log.start()
    return log
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'siteward-wal-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('returns appended records in order, each at the position its append resolved with', async () => {
    const log = open()
    const positions = await Promise.all(
      Array.from({ length: 500 }, (_, i) => log.append(presence(`D${i}`, i))),
    )
    expect(positions).toEqual([...positions].sort((a, b) => a - b))
    const { records, next } = log.readFrom(0, 1_000)
    expect(records.map((r) => r.record.deviceId)).toEqual(Array.from({ length: 500 }, (_, i) => `D${i}`))
    expect(records.map((r) => r.position)).toEqual(positions)
    expect(next).toBe(log.endPosition)
    await log.stop()
  })

  it('reads from a cursor and in pages of maxRecords', async () => {
    const log = open()
    for (let i = 0; i < 10; i++) await log.append(presence(`D${i}`, i))
    const first = log.readFrom(0, 4)
    expect(first.records).toHaveLength(4)
    const rest = log.readFrom(first.next, 100)
    expect(rest.records.map((r) => r.record.deviceId)).toEqual(['D4', 'D5', 'D6', 'D7', 'D8', 'D9'])
    expect(log.readFrom(rest.next, 100).records).toHaveLength(0)
    await log.stop()
  })

  it('keeps everything across a restart and continues at the same end position', async () => {
    const first = open()
    for (let i = 0; i < 20; i++) await first.append(presence(`D${i}`, i))
    const end = first.endPosition
    await first.stop()
    const second = open()
    expect(second.endPosition).toBe(end)
    await second.append(presence('after', 99))
    expect(
      second
        .readFrom(0, 100)
        .records.map((r) => r.record.deviceId)
        .at(-1),
    ).toBe('after')
    expect(second.readFrom(0, 100).records).toHaveLength(21)
    await second.stop()
  })

  it('drops a torn tail left by a crash and keeps the intact prefix', async () => {
    const log = open()
    for (let i = 0; i < 5; i++) await log.append(presence(`D${i}`, i))
    const intactEnd = log.endPosition
    await log.stop()
    const [segment] = readdirSync(dir)
    const path = join(dir, segment as string)
    appendFileSync(path, Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 5, 6])) // a frame header promising 200 bytes, then a crash
    const { logger, lines } = memoryLogger()
    const reopened = new SegmentLog({ dir, segmentBytes: 1024 * 1024, lingerMs: 0, logger })
    reopened.start()
    expect(reopened.endPosition).toBe(intactEnd)
    expect(statSync(path).size).toBe(intactEnd)
    expect(reopened.readFrom(0, 100).records).toHaveLength(5)
    expect(lines.some((line) => line.msg.includes('torn tail'))).toBe(true)
    await reopened.stop()
  })

  it('truncates a half-written frame body as well', async () => {
    const log = open()
    for (let i = 0; i < 3; i++) await log.append(presence(`D${i}`, i))
    const endOfSecond = log.readFrom(0, 3).records[2]?.position ?? 0
    await log.stop()
    const [segment] = readdirSync(dir)
    truncateSync(join(dir, segment as string), endOfSecond + 11) // the third frame lost its last bytes
    const reopened = open()
    expect(reopened.readFrom(0, 100).records.map((r) => r.record.deviceId)).toEqual(['D0', 'D1'])
    await reopened.stop()
  })

  it('rolls segments at the size limit, reads across them, and trims only consumed whole segments', async () => {
    const log = open(2_000)
    const positions: number[] = []
    for (let i = 0; i < 100; i++) positions.push(await log.append(presence(`D${i}`, i)))
    const segments = readdirSync(dir).filter((name) => name.endsWith('.seg'))
    expect(segments.length).toBeGreaterThan(3)
    expect(log.readFrom(0, 1_000).records).toHaveLength(100)

    const cursor = positions[60] as number
    const removed = log.trimBefore(cursor)
    expect(removed).toBeGreaterThan(0)
    const remaining = log.readFrom(0, 1_000).records
    expect(remaining[0]?.position).toBeLessThanOrEqual(cursor)
    expect(remaining.at(-1)?.record.deviceId).toBe('D99')
    expect(log.readFrom(cursor, 1_000).records[0]?.record.deviceId).toBe('D60')
    await log.stop()
  })

  it('group-commits: appends made together resolve together, after fewer writes than appends', async () => {
    const log = open(1024 * 1024, 5)
    let commits = 0
    log.onCommit(() => {
      commits += 1
    })
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(presence(`D${i}`, i))))
    expect(commits).toBeGreaterThanOrEqual(1)
    expect(commits).toBeLessThan(200)
    await log.stop()
  })

  it('a resolved append is already in the file (read by an independent reader)', async () => {
    const log = open()
    await log.append(presence('durable', 1))
    const reader = new SegmentLog({
      dir,
      segmentBytes: 1024 * 1024,
      lingerMs: 0,
      logger: memoryLogger().logger,
    })
    reader.start()
    expect(reader.readFrom(0, 10).records.map((r) => r.record.deviceId)).toEqual(['durable'])
    await log.stop()
  })

  it('appendThen calls back after the fdatasync, and never inside its own call, refusal included', async () => {
    const log = open()
    const outcomes: (Error | null)[] = []
    const stored = new Promise<void>((resolve) =>
      log.appendThen(presence('cb', 1), (error) => {
        outcomes.push(error)
        resolve()
      }),
    )
    expect(outcomes).toEqual([]) // the frame is not written yet
    await stored
    expect(outcomes).toEqual([null])
    expect(log.readFrom(0, 10).records.map((r) => r.record.deviceId)).toEqual(['cb'])
    await log.stop()
    const refused = new Promise<void>((resolve) =>
      log.appendThen(presence('late', 2), (error) => {
        outcomes.push(error)
        resolve()
      }),
    )
    expect(outcomes).toHaveLength(1)
    await refused
    expect(outcomes[1]?.message).toBe('write-ahead log is stopped')
    await expect(log.append(presence('late', 3))).rejects.toThrow('write-ahead log is stopped')
  })

  it("a callback that throws keeps neither its batch's others nor the next commit waiting", async () => {
    const { logger, lines } = memoryLogger()
    const log = new SegmentLog({ dir, segmentBytes: 1024 * 1024, lingerMs: 5, logger })
    log.start()
    const others = Array.from(
      { length: 3 },
      (_, i) =>
        new Promise<Error | null>((resolve) => {
          if (i === 1)
            log.appendThen(presence('thrower', i), () => {
              throw new Error('a caller bug')
            })
          log.appendThen(presence(`D${i}`, i), resolve)
        }),
    )
    expect(await Promise.all(others)).toEqual([null, null, null])
    expect(await log.append(presence('next', 9))).toBeGreaterThan(0)
    expect(lines.some((line) => line.msg === "write-ahead log: an append's callback threw")).toBe(true)
    await log.stop()
  })
})
