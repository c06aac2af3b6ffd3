import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LogReader } from '../../storage/log/log-reader.js'
import { SegmentLog } from '../../storage/log/segment-log.js'
import { presenceRecord } from '../helpers/log-records.js'
import { memoryLogger } from '../helpers/log-sink.js'

const presence = presenceRecord

describe('LogReader (the write-ahead log read by a role that does not write it)', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'siteward-reader-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  const readAll = (reader: LogReader, from = 0) => {
    const ids: string[] = []
    for (let position = from; ; ) {
      const { records, next } = reader.readFrom(position, 37)
      if (records.length === 0) return { ids, next: position }
      for (const { record } of records) ids.push(record.deviceId)
      position = next
    }
  }

  it('follows the writer across segments, woken at each commit, and reads on after a trim', async () => {
    const writer = new SegmentLog({ dir, segmentBytes: 2_000, lingerMs: 0, logger: memoryLogger().logger })
    writer.start()
    const reader = new LogReader(dir)
    reader.start()
    let commits = 0
    reader.onCommit(() => {
      commits += 1
    })
    for (let i = 0; i < 300; i++) await writer.append(presence(`D${i}`, i))
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(commits).toBeGreaterThan(0)
    expect(readdirSync(dir).filter((name) => name.endsWith('.seg')).length).toBeGreaterThan(5)
    const first = readAll(reader)
    expect(first.ids).toEqual(Array.from({ length: 300 }, (_, i) => `D${i}`))
    expect(first.next).toBe(writer.endPosition)
    expect(writer.trimBefore(first.next)).toBeGreaterThan(0)
    for (let i = 300; i < 320; i++) await writer.append(presence(`D${i}`, i))
    expect(readAll(reader, first.next).ids).toEqual(Array.from({ length: 20 }, (_, i) => `D${300 + i}`))
    reader.stop()
    await writer.stop()
  })

  it('sees no record before the writer has made it durable', async () => {
    const writer = new SegmentLog({
      dir,
      segmentBytes: 1 << 20,
      lingerMs: 150,
      logger: memoryLogger().logger,
    })
    writer.start()
    const reader = new LogReader(dir)
    reader.start()
    const appended = writer.append(presence('D1', 1))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(reader.readFrom(0, 10).records).toHaveLength(0)
    await appended
    expect(reader.readFrom(0, 10).records.map((r) => r.record.deviceId)).toEqual(['D1'])
    reader.stop()
    await writer.stop()
  })

  it('follows a writer in another process through the durable marker', async () => {
    const reader = new LogReader(dir)
    reader.start()
    const seen: string[] = []
    let position = 0
    reader.onCommit(() => {
      const { records, next } = reader.readFrom(position, 10_000)
      for (const { record } of records) seen.push(record.deviceId)
      position = next
    })
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/helpers/append-log.ts', dir, '400', '3000'],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    )
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    expect(code).toBe(0)
    await expect.poll(() => seen.length, { timeout: 2_000 }).toBe(400)
    expect(seen).toEqual(Array.from({ length: 400 }, (_, i) => `D${i}`))
    reader.stop()
  })
})
