import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { SitewardError } from '../../domain/errors.js'
import type { HeardDevice, Registry } from '../../domain/ports.js'
import {
  type Device,
  type DeviceCredentials,
  type DeviceInput,
  type IssuedToken,
  type Principal,
  type Role,
  type Site,
  type SiteInput,
  type TokenInput,
  type TokenSummary,
  tokenInputSchema,
} from '../../domain/registry.js'
import { generateToken, hashToken } from '../../domain/secrets.js'
import {
  type CredentialsRow,
  type DeviceRow,
  deviceSelect,
  type SiteRow,
  type TokenRow,
  toCredentials,
  toDevice,
  toSite,
  toTokenSummary,
} from '../registry-rows.js'
import { inTransaction } from './database.js'

/**
 * Sites, devices and API tokens in PostgreSQL: the same contract as SQLite's
 * (test/storage/registry.contract.ts). Every read goes to the database, so what another node
 * or the CLI changes is honoured at once.
 */
export class PostgresRegistryRepository implements Registry {
  constructor(private readonly pool: pg.Pool) {}

  async upsertSite(input: SiteInput): Promise<Site> {
    const now = new Date().toISOString()
    // An explicit null removes a value; an absent field keeps it.
    const { rows } = await this.pool.query<SiteRow>(
      `INSERT INTO sites (id, name, region, pit_grade, pit_depth_m, base_slab_cast, support_type, rock_socketed,
                          created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, coalesce($6, false), $7, coalesce($8, false), $9, $9)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, region = excluded.region,
         pit_grade = CASE WHEN $10 THEN NULL ELSE coalesce(excluded.pit_grade, sites.pit_grade) END,
         pit_depth_m = CASE WHEN $11 THEN NULL ELSE coalesce(excluded.pit_depth_m, sites.pit_depth_m) END,
         base_slab_cast = coalesce($6, sites.base_slab_cast),
         support_type = CASE WHEN $12 THEN NULL ELSE coalesce(excluded.support_type, sites.support_type) END,
         rock_socketed = coalesce($8, sites.rock_socketed),
         updated_at = excluded.updated_at
       RETURNING *`,
      [
        input.id,
        input.name,
        input.region,
        input.pitGrade ?? null,
        input.pitDepthM ?? null,
        input.baseSlabCast ?? null,
        input.supportType ?? null,
        input.rockSocketed ?? null,
        now,
        input.pitGrade === null,
        input.pitDepthM === null,
        input.supportType === null,
      ],
    )
    return toSite(rows[0] as SiteRow)
  }

  async getSite(id: string): Promise<Site | undefined> {
    const { rows } = await this.pool.query<SiteRow>('SELECT * FROM sites WHERE id = $1', [id])
    return rows[0] === undefined ? undefined : toSite(rows[0])
  }

  async listSites(filter: {
    ids?: readonly string[] | undefined
    region?: string | null | undefined
  }): Promise<Site[]> {
    const { rows } = await this.pool.query<SiteRow>(
      `SELECT * FROM sites WHERE ($1::text[] IS NULL OR id = ANY($1)) AND ($2::text IS NULL OR region = $2)
       ORDER BY id`,
      [filter.ids === undefined ? null : [...filter.ids], filter.region ?? null],
    )
    return rows.map(toSite)
  }

  async createDevice(input: DeviceInput, secretHash: string): Promise<Device> {
    const now = new Date().toISOString()
    await inTransaction(this.pool, async (client) => {
      const site = await client.query('SELECT 1 FROM sites WHERE id = $1 FOR SHARE', [input.siteId])
      if (site.rowCount === 0)
        throw new SitewardError('SITE_NOT_FOUND', `site ${input.siteId} does not exist`)
      const inserted = await client.query(
        `INSERT INTO devices (id, site_id, kind, name, secret_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (id) DO NOTHING`,
        [input.id, input.siteId, input.kind, input.name ?? null, secretHash, now],
      )
      if (inserted.rowCount === 0) {
        const existing = await client.query<{ site_id: string }>(
          'SELECT site_id FROM devices WHERE id = $1',
          [input.id],
        )
        throw new SitewardError(
          'DEVICE_EXISTS',
          `device ${input.id} already exists (site ${existing.rows[0]?.site_id})`,
        )
      }
    })
    const device = await this.getDevice(input.id)
    if (device === undefined)
      throw new SitewardError('INTERNAL_ERROR', `device ${input.id} vanished after insert`)
    return device
  }

  async getDevice(id: string): Promise<Device | undefined> {
    const { rows } = await this.pool.query<DeviceRow>(`${deviceSelect} WHERE d.id = $1`, [id])
    return rows[0] === undefined ? undefined : toDevice(rows[0])
  }

  async listDevices(siteId: string): Promise<Device[]> {
    const { rows } = await this.pool.query<DeviceRow>(`${deviceSelect} WHERE d.site_id = $1 ORDER BY d.id`, [
      siteId,
    ])
    return rows.map(toDevice)
  }

  async heardDevices(): Promise<HeardDevice[]> {
    const { rows } = await this.pool.query<HeardDevice>(
      `SELECT d.site_id AS "siteId", d.id AS "deviceId", d.kind, s.online, s.last_seen_at AS "lastSeenAt"
         FROM devices d JOIN device_state s ON s.device_id = d.id`,
    )
    return rows
  }

  async getCredentials(id: string): Promise<DeviceCredentials | undefined> {
    const { rows } = await this.pool.query<CredentialsRow>(
      'SELECT id, site_id, kind, secret_hash, updated_at, disabled_at FROM devices WHERE id = $1',
      [id],
    )
    return rows[0] === undefined ? undefined : toCredentials(rows[0])
  }

  async updateDeviceAccess(
    id: string,
    change: { disabled?: boolean; secretHash?: string },
  ): Promise<boolean> {
    const now = new Date().toISOString()
    const result = await this.pool.query(
      `UPDATE devices SET
         disabled_at = CASE WHEN $2::boolean IS NULL THEN disabled_at WHEN $2 THEN coalesce(disabled_at, $4) ELSE NULL END,
         secret_hash = coalesce($3, secret_hash),
         updated_at = $4
       WHERE id = $1`,
      [id, change.disabled ?? null, change.secretHash ?? null, now],
    )
    return (result.rowCount ?? 0) > 0
  }

  async issueToken(raw: TokenInput): Promise<IssuedToken> {
    const input = tokenInputSchema.parse(raw)
    if (input.sites.length > 0) {
      const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM sites WHERE id = ANY($1)', [
        input.sites,
      ])
      const known = new Set(rows.map((row) => row.id))
      const missing = input.sites.find((siteId) => !known.has(siteId))
      if (missing !== undefined) throw new SitewardError('SITE_NOT_FOUND', `site ${missing} does not exist`)
    }
    const id = randomUUID()
    const token = generateToken()
    const region = input.region ?? null
    await this.pool.query(
      `INSERT INTO tokens (id, token_hash, role, name, sites, region, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        id,
        hashToken(token),
        input.role,
        input.name,
        JSON.stringify(input.sites),
        region,
        new Date().toISOString(),
      ],
    )
    return { id, token, role: input.role, name: input.name, sites: input.sites, region }
  }

  async listTokens(): Promise<TokenSummary[]> {
    const { rows } = await this.pool.query<TokenRow>(
      'SELECT id, role, name, sites, region, created_at, revoked_at FROM tokens ORDER BY created_at, id',
    )
    return rows.map(toTokenSummary)
  }

  async revokeToken(id: string): Promise<boolean> {
    const result = await this.pool.query(
      'UPDATE tokens SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2',
      [new Date().toISOString(), id],
    )
    return (result.rowCount ?? 0) > 0
  }

  async isTokenActive(id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM tokens WHERE id = $1 AND revoked_at IS NULL', [
      id,
    ])
    return (rowCount ?? 0) > 0
  }

  async findPrincipal(token: string): Promise<Principal | undefined> {
    const { rows } = await this.pool.query<{
      id: string
      role: Role
      name: string
      sites: string
      region: string | null
    }>('SELECT id, role, name, sites, region FROM tokens WHERE token_hash = $1 AND revoked_at IS NULL', [
      hashToken(token),
    ])
    const row = rows[0]
    if (row === undefined) return undefined
    return {
      tokenId: row.id,
      role: row.role,
      name: row.name,
      sites: JSON.parse(row.sites) as string[],
      region: row.region,
    }
  }
}
