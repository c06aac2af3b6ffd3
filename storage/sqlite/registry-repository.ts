import { randomUUID } from 'node:crypto'
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
import type { SqliteDatabase } from './database.js'

/**
 * Sites, devices and API tokens. Every read goes to the database, so devices and tokens that the
 * CLI creates while `serve` runs are honoured at once.
 */
export class RegistryRepository implements Registry {
  private readonly db: SqliteDatabase
  /** Prepared once: every device login asks (19,500 at once when a province reconnects). */
  private readonly credentials

  constructor(db: SqliteDatabase) {
    this.db = db
    this.credentials = db.prepare<[string], CredentialsRow>(
      'SELECT id, site_id, kind, secret_hash, updated_at, disabled_at FROM devices WHERE id = ?',
    )
  }

  async upsertSite(input: SiteInput): Promise<Site> {
    const now = new Date().toISOString()
    this.db
      .prepare(
        `INSERT INTO sites (id, name, region, pit_grade, pit_depth_m, base_slab_cast, support_type, rock_socketed,
                            created_at, updated_at)
         VALUES (@id, @name, @region, @pitGrade, @pitDepthM, coalesce(@baseSlabCast, 0), @supportType,
                 coalesce(@rockSocketed, 0), @now, @now)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, region = excluded.region,
           pit_grade = CASE WHEN @clearGrade THEN NULL ELSE coalesce(excluded.pit_grade, pit_grade) END,
           pit_depth_m = CASE WHEN @clearDepth THEN NULL ELSE coalesce(excluded.pit_depth_m, pit_depth_m) END,
           base_slab_cast = coalesce(@baseSlabCast, base_slab_cast),
           support_type = CASE WHEN @clearSupport THEN NULL ELSE coalesce(excluded.support_type, support_type) END,
           rock_socketed = coalesce(@rockSocketed, rock_socketed),
           updated_at = excluded.updated_at`,
      )
      .run({
        id: input.id,
        name: input.name,
        region: input.region,
        pitGrade: input.pitGrade ?? null,
        pitDepthM: input.pitDepthM ?? null,
        baseSlabCast: input.baseSlabCast === undefined ? null : Number(input.baseSlabCast),
        supportType: input.supportType ?? null,
        rockSocketed: input.rockSocketed === undefined ? null : Number(input.rockSocketed),
        // An explicit null removes a value; an absent field keeps it.
        clearGrade: Number(input.pitGrade === null),
        clearDepth: Number(input.pitDepthM === null),
        clearSupport: Number(input.supportType === null),
        now,
      })
    const site = this.siteNow(input.id)
    if (site === undefined)
      throw new SitewardError('INTERNAL_ERROR', `site ${input.id} vanished after upsert`)
    return site
  }

  async getSite(id: string): Promise<Site | undefined> {
    return this.siteNow(id)
  }

  /** For this repository's own synchronous callers (inside a transaction). */
  private siteNow(id: string): Site | undefined {
    const row = this.db.prepare('SELECT * FROM sites WHERE id = ?').get(id) as SiteRow | undefined
    return row === undefined ? undefined : toSite(row)
  }

  async listSites(filter: {
    ids?: readonly string[] | undefined
    region?: string | null | undefined
  }): Promise<Site[]> {
    const clauses: string[] = []
    const params: unknown[] = []
    if (filter.ids !== undefined) {
      if (filter.ids.length === 0) return []
      clauses.push(`id IN (${filter.ids.map(() => '?').join(', ')})`)
      params.push(...filter.ids)
    }
    if (filter.region !== undefined && filter.region !== null) {
      clauses.push('region = ?')
      params.push(filter.region)
    }
    const where = clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`
    const rows = this.db.prepare(`SELECT * FROM sites ${where} ORDER BY id`).all(...params) as SiteRow[]
    return rows.map(toSite)
  }

  async createDevice(input: DeviceInput, secretHash: string): Promise<Device> {
    const now = new Date().toISOString()
    const create = this.db.transaction(() => {
      if (this.siteNow(input.siteId) === undefined)
        throw new SitewardError('SITE_NOT_FOUND', `site ${input.siteId} does not exist`)
      const existing = this.db.prepare('SELECT site_id FROM devices WHERE id = ?').get(input.id) as
        | { site_id: string }
        | undefined
      if (existing !== undefined) {
        throw new SitewardError(
          'DEVICE_EXISTS',
          `device ${input.id} already exists (site ${existing.site_id})`,
        )
      }
      this.db
        .prepare(
          `INSERT INTO devices (id, site_id, kind, name, secret_hash, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(input.id, input.siteId, input.kind, input.name ?? null, secretHash, now, now)
    })
    create.immediate()
    const device = this.deviceNow(input.id)
    if (device === undefined)
      throw new SitewardError('INTERNAL_ERROR', `device ${input.id} vanished after insert`)
    return device
  }

  async getDevice(id: string): Promise<Device | undefined> {
    return this.deviceNow(id)
  }

  private deviceNow(id: string): Device | undefined {
    const row = this.db.prepare(`${deviceSelect} WHERE d.id = ?`).get(id) as DeviceRow | undefined
    return row === undefined ? undefined : toDevice(row)
  }

  async listDevices(siteId: string): Promise<Device[]> {
    const rows = this.db
      .prepare(`${deviceSelect} WHERE d.site_id = ? ORDER BY d.id`)
      .all(siteId) as DeviceRow[]
    return rows.map(toDevice)
  }

  /** Every device heard from, with its presence and when it was last heard (engine time). */
  async heardDevices(): Promise<HeardDevice[]> {
    const rows = this.db
      .prepare(
        'SELECT d.id, d.site_id, d.kind, s.online, s.last_seen_at FROM devices d JOIN device_state s ON s.device_id = d.id',
      )
      .all() as {
      id: string
      site_id: string
      kind: 'crane' | 'pit'
      online: number
      last_seen_at: number | null
    }[]
    return rows.map((row) => ({
      siteId: row.site_id,
      deviceId: row.id,
      kind: row.kind,
      online: row.online === 1,
      lastSeenAt: row.last_seen_at,
    }))
  }

  async getCredentials(id: string): Promise<DeviceCredentials | undefined> {
    const row = this.credentials.get(id)
    return row === undefined ? undefined : toCredentials(row)
  }

  async issueToken(raw: TokenInput): Promise<IssuedToken> {
    const input = tokenInputSchema.parse(raw)
    for (const siteId of input.sites) {
      if (this.siteNow(siteId) === undefined)
        throw new SitewardError('SITE_NOT_FOUND', `site ${siteId} does not exist`)
    }
    const id = randomUUID()
    const token = generateToken()
    const region = input.region ?? null
    this.db
      .prepare(
        `INSERT INTO tokens (id, token_hash, role, name, sites, region, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        hashToken(token),
        input.role,
        input.name,
        JSON.stringify(input.sites),
        region,
        new Date().toISOString(),
      )
    return { id, token, role: input.role, name: input.name, sites: input.sites, region }
  }

  /**
   * Disables or enables a device's logins, or gives it a new secret hash; either moves
   * `updated_at`, which ends the login cache and the connections made before. False: no device.
   */
  async updateDeviceAccess(
    id: string,
    change: { disabled?: boolean; secretHash?: string },
  ): Promise<boolean> {
    const now = new Date().toISOString()
    const result = this.db
      .prepare(
        `UPDATE devices SET
           disabled_at = CASE WHEN @disabled IS NULL THEN disabled_at WHEN @disabled = 1 THEN coalesce(disabled_at, @now) ELSE NULL END,
           secret_hash = coalesce(@secretHash, secret_hash),
           updated_at = @now
         WHERE id = @id`,
      )
      .run({
        id,
        now,
        disabled: change.disabled === undefined ? null : Number(change.disabled),
        secretHash: change.secretHash ?? null,
      })
    return result.changes > 0
  }

  async listTokens(): Promise<TokenSummary[]> {
    const rows = this.db
      .prepare(
        'SELECT id, role, name, sites, region, created_at, revoked_at FROM tokens ORDER BY created_at, id',
      )
      .all() as TokenRow[]
    return rows.map(toTokenSummary)
  }

  /** Revokes the token (for good); false when there is no such token. */
  async revokeToken(id: string): Promise<boolean> {
    const result = this.db
      .prepare('UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?')
      .run(new Date().toISOString(), id)
    return result.changes > 0
  }

  async isTokenActive(id: string): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM tokens WHERE id = ? AND revoked_at IS NULL').get(id) !== undefined
  }

  async findPrincipal(token: string): Promise<Principal | undefined> {
    const row = this.db
      .prepare('SELECT id, role, name, sites, region FROM tokens WHERE token_hash = ? AND revoked_at IS NULL')
      .get(hashToken(token)) as
      | { id: string; role: Role; name: string; sites: string; region: string | null }
      | undefined
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
