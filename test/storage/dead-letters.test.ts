import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { DeadLetter } from '../../domain/ports.js'
import { DeadLetterBudget, storedPayload } from '../../ingest/dead-letter-budget.js'
import { openDatabase } from '../../storage/sqlite/database.js'
import { ProjectionRepository } from '../../storage/sqlite/projection-repository.js'

describe('dead letters stay bounded', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })
  const letter = (deviceId: string, receivedAt: number): DeadLetter => ({
    receivedAt,
    siteId: 'S1',
    deviceId,
    topic: `sites/S1/devices/${deviceId}/telemetry`,
    stage: 'ingest',
    reason: 'payload is not valid JSON',
    payload: 'x',
  })

  it('prunes by age and keeps the newest of a crowded device (a real SQLite file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'siteward-letters-'))
    dirs.push(dir)
    const db = openDatabase(join(dir, 'siteward.db'))
    const letters = new ProjectionRepository(db)
    const now = 1_800_000_000_000
    await letters.add(Array.from({ length: 30 }, (_, i) => letter('TC-01', now + i)))
    await letters.add(Array.from({ length: 5 }, (_, i) => letter('TC-02', now - 40 * 86_400_000 + i)))
    await letters.add([letter('TC-02', now)])
    expect(await letters.pruneDeadLetters(now - 30 * 86_400_000, 10)).toBe(25)
    const kept = await letters.listDeadLetters({ deviceId: 'TC-01', limit: 100 })
    expect(kept.map((l) => l.receivedAt)).toEqual(Array.from({ length: 10 }, (_, i) => now + 29 - i))
    expect(await letters.listDeadLetters({ deviceId: 'TC-02', limit: 100 })).toHaveLength(1)
    db.close()
  })

  it('lets a burst of 20 through, then 10 a minute, per device', () => {
    const budget = new DeadLetterBudget()
    const taken = Array.from({ length: 50 }, () => budget.take('TC-01', 0)).filter(Boolean)
    expect(taken).toHaveLength(20)
    expect(budget.take('TC-02', 0)).toBe(true)
    expect(budget.take('TC-01', 5_999)).toBe(false)
    expect(budget.take('TC-01', 6_000)).toBe(true)
    const minute = Array.from({ length: 61 }, (_, s) => budget.take('TC-01', 6_000 + (s + 1) * 1_000))
    expect(minute.filter(Boolean)).toHaveLength(10)
  })

  it('cuts a long payload and says how much it cut', () => {
    expect(storedPayload('short')).toBe('short')
    const cut = storedPayload('y'.repeat(10_000))
    expect(cut.startsWith('y'.repeat(4_096))).toBe(true)
    expect(cut.endsWith('… (5904 more characters not kept)')).toBe(true)
  })
})
