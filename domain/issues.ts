import type { z } from 'zod'

/**
 * Formats zod issues as `path: message` lines, the single way Siteward reports invalid input
 * (configuration, payloads, HTTP bodies, rule files).
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else out += out === '' ? String(key) : `.${String(key)}`
  }
  return out === '' ? '(root)' : out
}

/** What a value is, in words a device integrator understands: "string", "null", "array"… */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value)
  return typeof value
}

export function formatIssue(issue: z.core.$ZodIssue, root?: unknown): string {
  const path = formatPath(issue.path)
  if (issue.code === 'invalid_type') {
    const value = root === undefined ? undefined : valueAt(root, issue.path)
    const got = value === undefined ? 'nothing' : describeValue(value)
    return `${path}: expected ${issue.expected}, got ${got}`
  }
  return `${path}: ${issue.message}`
}

export function formatIssues(error: z.ZodError, root?: unknown): string[] {
  return error.issues.map((issue) => formatIssue(issue, root))
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined
    current = (current as Record<PropertyKey, unknown>)[key]
  }
  return current
}
