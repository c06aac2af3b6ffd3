import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AlertFeed } from '../../alerts/alert-feed.js'
import type { AlertChange } from '../../domain/alert.js'
import type { Principal } from '../../domain/registry.js'
import { AlertRepository } from '../../storage/sqlite/alert-repository.js'
import { openDatabase, type SqliteDatabase } from '../../storage/sqlite/database.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { waitFor } from '../helpers/engine.js'
import { memoryLogger } from '../helpers/log-sink.js'

const officer: Principal = {
  tokenId: 't',
  name: 'Officer Wang',
  role: 'officer',
  sites: ['S1'],
  region: null,
}
const at = Date.UTC(2026, 10, 29, 8, 0, 0)
const raise = async (alerts: AlertRepository, subject: string) =>
  (
    await alerts.applySignal(
      {
        siteId: 'S1',
        deviceId: 'TC-01',
        ruleId: 'crane.moment',
        subject,
        origin: 'rule default',
        retrospective: false,
        signal: { type: 'raise', severity: 'alarm', value: 105, threshold: 100, ts: at },
      },
      at,
    )
  )?.alert.id as string

describe('AlertFeed: alert changes followed through the store', () => {
  let dir: string
  let writer: SqliteDatabase
  let reader: SqliteDatabase
  let feed: AlertFeed
  let seen: AlertChange[]
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'siteward-alert-feed-'))
    writer = openDatabase(join(dir, 'siteward.db'))
    await new RegistryRepository(writer).upsertSite({ id: 'S1', name: 'S1', region: '330106' })
    // The feed reads through a connection of its own, as another thread or process would.
    reader = openDatabase(join(dir, 'siteward.db'))
    seen = []
  })
  afterEach(async () => {
    await feed.stop()
    writer.close()
    reader.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('sends what another connection commits, in seq order, once, and not what came before it started', async () => {
    const alerts = new AlertRepository(writer)
    await raise(alerts, 'before') // history: the SSE stream's Last-Event-ID serves it, not the feed
    feed = new AlertFeed({ store: new AlertRepository(reader), logger: memoryLogger().logger, pollMs: 50 })
    feed.changes$.subscribe((change) => seen.push(change))
    await feed.start()
    const id = await raise(alerts, 'momentPct')
    await alerts.transition(id, { action: 'acknowledge', note: null }, officer, undefined, at + 1)
    // No ring: the poll finds them (in one read or two).
    const events = () => seen.flatMap((c) => c.events.map((e) => ({ subject: c.alert.subject, e })))
    await waitFor(async () => events().length === 2, 'two events')
    expect(events().map(({ subject, e }) => [subject, e.type])).toEqual([
      ['momentPct', 'raised'],
      ['momentPct', 'acknowledged'],
    ])
    const seqs = events().map(({ e }) => e.seq)
    expect(seqs[1]).toBeGreaterThan(seqs[0] as number)
    await new Promise((resolve) => setTimeout(resolve, 150)) // more polls send nothing again
    expect(events()).toHaveLength(2)
  })

  it('sends the events of one alert that follow each other as one change, each event still in it', async () => {
    const alerts = new AlertRepository(writer)
    feed = new AlertFeed({
      store: new AlertRepository(reader),
      logger: memoryLogger().logger,
      pollMs: 60_000,
    })
    feed.changes$.subscribe((change) => seen.push(change))
    await feed.start()
    const id = await raise(alerts, 'momentPct')
    await alerts.transition(id, { action: 'acknowledge', note: null }, officer, undefined, at + 1)
    await alerts.comment(id, officer, 'on my way', at + 2)
    feed.ring()
    await waitFor(async () => seen.length === 1, 'one change')
    expect(seen[0]?.events.map((e) => e.type)).toEqual(['raised', 'acknowledged', 'comment'])
    expect(seen[0]?.alert.state).toBe('acknowledged')
  })

  it('reads at once when rung, without waiting for the poll', async () => {
    const alerts = new AlertRepository(writer)
    feed = new AlertFeed({
      store: new AlertRepository(reader),
      logger: memoryLogger().logger,
      pollMs: 60_000,
    })
    feed.changes$.subscribe((change) => seen.push(change))
    await feed.start()
    await raise(alerts, 'momentPct')
    feed.ring()
    await waitFor(async () => seen.length === 1, 'the rung change')
    expect(seen[0]?.events[0]?.type).toBe('raised')
  })
})
