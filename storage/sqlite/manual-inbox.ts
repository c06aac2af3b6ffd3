import type { InboxSubmission, ManualInboxStore } from '../../domain/ports.js'
import type { SqliteDatabase } from './database.js'

/** Answered submissions are kept this long (the API has long read its answer). */
export const keepAnsweredMs = 24 * 3_600_000

/**
 * Manual readings on their way from the API to the edge (migration 9): the API files a
 * submission and waits for its answer; the edge, the only writer of the log, claims it, logs its
 * readings and writes the answer in the same row.
 */
export class ManualInbox implements ManualInboxStore {
  private readonly statements

  constructor(db: SqliteDatabase) {
    this.statements = {
      file: db.prepare('INSERT INTO manual_inbox (site_id, entered_by, body, filed_at) VALUES (?, ?, ?, ?)'),
      pending: db.prepare<[number], InboxRow>(
        'SELECT id, site_id, entered_by, body, filed_at, claimed_at FROM manual_inbox WHERE done_at IS NULL ORDER BY id LIMIT ?',
      ),
      claim: db.prepare('UPDATE manual_inbox SET claimed_at = ? WHERE id = ? AND done_at IS NULL'),
      answer: db.prepare('UPDATE manual_inbox SET result = ?, done_at = ? WHERE id = ?'),
      result: db.prepare<[number], { result: string | null }>('SELECT result FROM manual_inbox WHERE id = ?'),
      withdraw: db.prepare('DELETE FROM manual_inbox WHERE id = ? AND claimed_at IS NULL'),
      oldestClaim: db.prepare<[], { at: number | null }>(
        'SELECT min(claimed_at) AS at FROM manual_inbox WHERE done_at IS NULL',
      ),
      prunable: db.prepare<[number], { id: number }>(
        'SELECT id FROM manual_inbox WHERE done_at IS NOT NULL AND done_at < ? LIMIT 1',
      ),
      prune: db.prepare('DELETE FROM manual_inbox WHERE done_at IS NOT NULL AND done_at < ?'),
    }
  }

  async file(siteId: string, enteredBy: string, body: unknown, now: number): Promise<number> {
    return Number(this.statements.file.run(siteId, enteredBy, JSON.stringify(body), now).lastInsertRowid)
  }

  /** Oldest first: those a previous run of the edge claimed and did not answer, then new ones. */
  async pending(limit: number): Promise<InboxSubmission[]> {
    return this.statements.pending.all(limit).map((row) => ({
      id: row.id,
      siteId: row.site_id,
      enteredBy: row.entered_by,
      body: JSON.parse(row.body) as unknown,
      filedAt: row.filed_at,
      claimedAt: row.claimed_at,
    }))
  }

  async claim(id: number, logEnd: number): Promise<void> {
    this.statements.claim.run(logEnd, id)
  }

  async answer(id: number, result: unknown, now: number): Promise<void> {
    this.statements.answer.run(JSON.stringify(result), now, id)
  }

  /** The answer, or undefined while the edge has not written one (null: no such submission). */
  async resultOf(id: number): Promise<unknown> {
    const row = this.statements.result.get(id)
    if (row === undefined) return null
    return row.result === null ? undefined : (JSON.parse(row.result) as unknown)
  }

  /** Takes a submission back if the edge has not claimed it yet; false when it has. */
  async withdraw(id: number): Promise<boolean> {
    return this.statements.withdraw.run(id).changes > 0
  }

  /** Where the log must be kept from for the submissions claimed and not answered. */
  async oldestClaim(): Promise<number | null> {
    return this.statements.oldestClaim.get()?.at ?? null
  }

  /**
   * The edge calls this every second from the MQTT thread: a DELETE takes the store's write lock
   * even when it matches nothing, and waiting for that lock behind the worker would hold every
   * PUBACK. So it looks first (a read never waits in WAL mode) and writes only when there is work.
   */
  async prune(now: number): Promise<number> {
    const before = now - keepAnsweredMs
    if (this.statements.prunable.get(before) === undefined) return 0
    return this.statements.prune.run(before).changes
  }
}

interface InboxRow {
  id: number
  site_id: string
  entered_by: string
  body: string
  filed_at: number
  claimed_at: number | null
}
