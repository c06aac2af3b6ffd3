import { randomUUID } from 'node:crypto'
import { SitewardError } from '../../domain/errors.js'
import type { DeviceRepository, SiteRepository, TokenRepository } from '../../domain/ports.js'
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
import type { SqliteDatabase } from './database.js'

interface SiteRow {
  id: string
  name: string
  region: string
  pit_grade: number | null
  pit_depth_m: number | null
  base_slab_cast: number
  support_type: Site['supportType']
  rock_socketed: number
  created_at: string
  updated_at: string
}

interface DeviceRow {
  id: string
  site_id: string
  kind: 'crane' | 'pit'
  name: string | null
  created_at: string
  online: number | null
  last_seen_at: number | null
  accepted_count: number | null
  rejected_count: number | null
  duplicate_count: number | null
  last_reject_reason: string | null
  last_reject_at: number | null
  disabled_at: string | null
}

const deviceSelect = `
  SELECT d.id, d.site_id, d.kind, d.name, d.created_at, d.disabled_at, s.online, s.last_seen_at, s.accepted_count,
         s.rejected_count, s.duplicate_count, s.last_reject_reason, s.last_reject_at
  FROM devices d LEFT JOIN device_state s ON s.device_id = d.id`

const isoOrNull = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

/**
 * Sites, devices and API tokens. Every read goes to the database, so devices and tokens that the
 * CLI creates while `serve` runs are honoured at once.
 */
export class RegistryRepository implements SiteRepository, DeviceRepository, TokenRepository {
  private readonly db: SqliteDatabase
  /** Prepared once: every device login asks (19,500 at once when a province reconnects). */
  private readonly credentials

  constructor(db: SqliteDatabase) {
    this.db = db
    this.credentials = db.prepare<[string], CredentialsRow>(
      'SELECT id, site_id, kind, secret_hash, updated_at, disabled_at FROM devices WHERE id = ?',
    )
  }

  upsertSite(input: SiteInput): Site {
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
    const site = this.getSite(input.id)
    if (site === undefined)
      throw new SitewardError('INTERNAL_ERROR', `site ${input.id} vanished after upsert`)
    return site
  }

  getSite(id: string): Site | undefined {
    const row = this.db.prepare('SELECT * FROM sites WHERE id = ?').get(id) as SiteRow | undefined
    return row === undefined ? undefined : toSite(row)
  }

  listSites(filter: { ids?: readonly string[] | undefined; region?: string | null | undefined }): Site[] {
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

  createDevice(input: DeviceInput, secretHash: string): Device {
    const now = new Date().toISOString()
    const create = this.db.transaction(() => {
      if (this.getSite(input.siteId) === undefined)
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
    const device = this.getDevice(input.id)
    if (device === undefined)
      throw new SitewardError('INTERNAL_ERROR', `device ${input.id} vanished after insert`)
    return device
  }

  getDevice(id: string): Device | undefined {
    const row = this.db.prepare(`${deviceSelect} WHERE d.id = ?`).get(id) as DeviceRow | undefined
    return row === undefined ? undefined : toDevice(row)
  }

  listDevices(siteId: string): Device[] {
    const rows = this.db
      .prepare(`${deviceSelect} WHERE d.site_id = ? ORDER BY d.id`)
      .all(siteId) as DeviceRow[]
    return rows.map(toDevice)
  }

  /** Devices that were online when last heard of (their silence is watched from start-up). */
  /** Every device heard from, with its presence and when it was last heard (engine time). */
  heardDevices(): {
    siteId: string
    deviceId: string
    kind: 'crane' | 'pit'
    online: boolean
    lastSeenAt: number | null
  }[] {
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

  getCredentials(id: string): DeviceCredentials | undefined {
    const row = this.credentials.get(id)
    if (row === undefined) return undefined
    return {
      id: row.id,
      siteId: row.site_id,
      kind: row.kind,
      secretHash: row.secret_hash,
      updatedAt: row.updated_at,
      disabledAt: row.disabled_at,
    }
  }

  issueToken(raw: TokenInput): IssuedToken {
    const input = tokenInputSchema.parse(raw)
    for (const siteId of input.sites) {
      if (this.getSite(siteId) === undefined)
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
  updateDeviceAccess(id: string, change: { disabled?: boolean; secretHash?: string }): boolean {
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

  listTokens(): TokenSummary[] {
    const rows = this.db
      .prepare(
        'SELECT id, role, name, sites, region, created_at, revoked_at FROM tokens ORDER BY created_at, id',
      )
      .all() as {
      id: string
      role: Role
      name: string
      sites: string
      region: string | null
      created_at: string
      revoked_at: string | null
    }[]
    return rows.map((row) => ({
      id: row.id,
      role: row.role,
      name: row.name,
      sites: JSON.parse(row.sites) as string[],
      region: row.region,
      createdAt: row.created_at,
      revokedAt: row.revoked_at,
    }))
  }

  /** Revokes the token (for good); false when there is no such token. */
  revokeToken(id: string): boolean {
    const result = this.db
      .prepare('UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?')
      .run(new Date().toISOString(), id)
    return result.changes > 0
  }

  isTokenActive(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM tokens WHERE id = ? AND revoked_at IS NULL').get(id) !== undefined
  }

  findPrincipal(token: string): Principal | undefined {
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

function toSite(row: SiteRow): Site {
  return {
    id: row.id,
    name: row.name,
    region: row.region,
    pitGrade: row.pit_grade as Site['pitGrade'],
    pitDepthM: row.pit_depth_m,
    baseSlabCast: row.base_slab_cast === 1,
    supportType: row.support_type,
    rockSocketed: row.rock_socketed === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

function toDevice(row: DeviceRow): Device {
  return {
    id: row.id,
    siteId: row.site_id,
    kind: row.kind,
    name: row.name,
    online: row.online === 1,
    lastSeenAt: isoOrNull(row.last_seen_at),
    acceptedCount: row.accepted_count ?? 0,
    rejectedCount: row.rejected_count ?? 0,
    duplicateCount: row.duplicate_count ?? 0,
    lastRejectReason: row.last_reject_reason,
    lastRejectAt: isoOrNull(row.last_reject_at),
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
  }
}

interface CredentialsRow {
  id: string
  site_id: string
  kind: 'crane' | 'pit'
  secret_hash: string
  updated_at: string
  disabled_at: string | null
}
