import { SitewardError } from './errors.js'
import type { Principal, Role, Site } from './registry.js'

/**
 * CONTRACT §5: officers and supervisors see their sites, regulators their region (or all without
 * one), admins everything. Outside the scope a resource does not exist (404, never 403).
 */
export function canSeeSite(principal: Principal, site: Pick<Site, 'id' | 'region'>): boolean {
  switch (principal.role) {
    case 'admin':
      return true
    case 'regulator':
      return principal.region === null || principal.region === site.region
    case 'officer':
    case 'supervisor':
      return principal.sites.includes(site.id)
  }
}

/** The site filter of a listing in the caller's scope. */
export function siteFilter(principal: Principal): { ids?: readonly string[]; region?: string | null } {
  switch (principal.role) {
    case 'admin':
      return {}
    case 'regulator':
      return { region: principal.region }
    case 'officer':
    case 'supervisor':
      return { ids: principal.sites }
  }
}

export function requireRole(principal: Principal, allowed: readonly Role[], action: string): void {
  if (!allowed.includes(principal.role)) {
    throw new SitewardError('FORBIDDEN', `the ${principal.role} role may not ${action}`)
  }
}
