import type pg from 'pg'
import type { ChangeCounter, ChangeCounters, InboxSubmission, ManualInboxStore } from '../../domain/ports.js'
import { keepAnsweredMs } from '../sqlite/manual-inbox.js'

/** The manual-readings inbox in PostgreSQL: the same contract as SQLite's (test/storage/inbox.contract.ts). */
export class PostgresManualInbox implements ManualInboxStore {
  constructor(private readonly pool: pg.Pool) {}

  async file(siteId: string, enteredBy: string, body: unknown, now: number): Promise<number> {
    const { rows } = await this.pool.query<{ id: number }>(
      'INSERT INTO manual_inbox (site_id, entered_by, body, filed_at) VALUES ($1, $2, $3, $4) RETURNING id',
      [siteId, enteredBy, JSON.stringify(body), now],
    )
    return rows[0]?.id as number
  }

  async pending(limit: number): Promise<InboxSubmission[]> {
    const { rows } = await this.pool.query<{
      id: number
      site_id: string
      entered_by: string
      body: string
      filed_at: number
      claimed_at: number | null
    }>(
      'SELECT id, site_id, entered_by, body, filed_at, claimed_at FROM manual_inbox WHERE done_at IS NULL ORDER BY id LIMIT $1',
      [limit],
    )
    return rows.map((row) => ({
      id: row.id,
      siteId: row.site_id,
      enteredBy: row.entered_by,
      body: JSON.parse(row.body) as unknown,
      filedAt: row.filed_at,
      claimedAt: row.claimed_at,
    }))
  }

  async claim(id: number, logEnd: number): Promise<void> {
    await this.pool.query('UPDATE manual_inbox SET claimed_at = $1 WHERE id = $2 AND done_at IS NULL', [
      logEnd,
      id,
    ])
  }

  async answer(id: number, result: unknown, now: number): Promise<void> {
    await this.pool.query('UPDATE manual_inbox SET result = $1, done_at = $2 WHERE id = $3', [
      JSON.stringify(result),
      now,
      id,
    ])
  }

  async resultOf(id: number): Promise<unknown> {
    const { rows } = await this.pool.query<{ result: string | null }>(
      'SELECT result FROM manual_inbox WHERE id = $1',
      [id],
    )
    const row = rows[0]
    if (row === undefined) return null
    return row.result === null ? undefined : (JSON.parse(row.result) as unknown)
  }

  async withdraw(id: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'DELETE FROM manual_inbox WHERE id = $1 AND claimed_at IS NULL',
      [id],
    )
    return (rowCount ?? 0) > 0
  }

  async oldestClaim(): Promise<number | null> {
    const { rows } = await this.pool.query<{ at: number | null }>(
      'SELECT min(claimed_at) AS at FROM manual_inbox WHERE done_at IS NULL',
    )
    return rows[0]?.at ?? null
  }

  async prune(now: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      'DELETE FROM manual_inbox WHERE done_at IS NOT NULL AND done_at < $1',
      [now - keepAnsweredMs],
    )
    return rowCount ?? 0
  }
}

/** The counters triggers move (migration 4), read by every role and node. */
export class PostgresChangeCounters implements ChangeCounters {
  constructor(private readonly pool: pg.Pool) {}

  async value(counter: ChangeCounter): Promise<number> {
    const { rows } = await this.pool.query<{ value: number }>(
      'SELECT value FROM change_counters WHERE name = $1',
      [counter],
    )
    return rows[0]?.value ?? 0
  }
}
