import type { Device, DeviceCredentials, Role, Site, TokenSummary } from '../domain/registry.js'

/**
 * Registry rows as both stores return them (booleans are 0/1 in SQLite, booleans in PostgreSQL)
 * and their mapping to the domain's shapes.
 */

export interface SiteRow {
  id: string
  name: string
  region: string
  pit_grade: number | null
  pit_depth_m: number | null
  base_slab_cast: number | boolean
  support_type: Site['supportType']
  rock_socketed: number | boolean
  created_at: string
  updated_at: string
}

export interface DeviceRow {
  id: string
  site_id: string
  kind: 'crane' | 'pit'
  name: string | null
  created_at: string
  online: number | boolean | null
  last_seen_at: number | null
  accepted_count: number | null
  rejected_count: number | null
  duplicate_count: number | null
  last_reject_reason: string | null
  last_reject_at: number | null
  disabled_at: string | null
}

export const deviceSelect = `
  SELECT d.id, d.site_id, d.kind, d.name, d.created_at, d.disabled_at, s.online, s.last_seen_at, s.accepted_count,
         s.rejected_count, s.duplicate_count, s.last_reject_reason, s.last_reject_at
  FROM devices d LEFT JOIN device_state s ON s.device_id = d.id`

const isoOrNull = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

export function toSite(row: SiteRow): Site {
  return {
    id: row.id,
    name: row.name,
    region: row.region,
    pitGrade: row.pit_grade as Site['pitGrade'],
    pitDepthM: row.pit_depth_m,
    baseSlabCast: row.base_slab_cast === 1 || row.base_slab_cast === true,
    supportType: row.support_type,
    rockSocketed: row.rock_socketed === 1 || row.rock_socketed === true,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

export function toDevice(row: DeviceRow): Device {
  return {
    id: row.id,
    siteId: row.site_id,
    kind: row.kind,
    name: row.name,
    online: row.online === 1 || row.online === true,
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

export interface CredentialsRow {
  id: string
  site_id: string
  kind: 'crane' | 'pit'
  secret_hash: string
  updated_at: string
  disabled_at: string | null
}

export function toCredentials(row: CredentialsRow): DeviceCredentials {
  return {
    id: row.id,
    siteId: row.site_id,
    kind: row.kind,
    secretHash: row.secret_hash,
    updatedAt: row.updated_at,
    disabledAt: row.disabled_at,
  }
}

export interface TokenRow {
  id: string
  role: Role
  name: string
  sites: string
  region: string | null
  created_at: string
  revoked_at: string | null
}

export function toTokenSummary(row: TokenRow): TokenSummary {
  return {
    id: row.id,
    role: row.role,
    name: row.name,
    sites: JSON.parse(row.sites) as string[],
    region: row.region,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  }
}
