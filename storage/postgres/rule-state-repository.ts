import type pg from 'pg'

/** Saved threshold state per alert key; written with each batch (`writeProjection`). */
export class PostgresRuleStateRepository {
  constructor(private readonly pool: pg.Pool) {}

  async loadAll(): Promise<[string, unknown][]> {
    const { rows } = await this.pool.query<{ key: string; state: string }>(
      'SELECT key, state FROM rule_states',
    )
    return rows.map((row) => [row.key, JSON.parse(row.state) as unknown])
  }
}
