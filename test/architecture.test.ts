import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * docs/architecture.md: domain imports nothing of the project; rules import domain only; ingest,
 * alerts, storage and api import domain (and themselves), never each other; only app crosses.
 */
const allowed: Record<string, readonly string[]> = {
  domain: [],
  rules: ['domain'],
  ingest: ['domain'],
  alerts: ['domain'],
  storage: ['domain'],
  api: ['domain'],
  simulators: ['domain'],
  app: ['domain', 'rules', 'ingest', 'alerts', 'storage', 'api', 'simulators'],
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

describe('import rules (docs/architecture.md)', () => {
  const root = join(import.meta.dirname, '..')
  const files = Object.keys(allowed).flatMap((folder) => sourceFiles(join(root, folder)))

  it('finds the source tree', () => {
    expect(files.length).toBeGreaterThan(20)
  })

  it('never imports across folders in a forbidden direction', () => {
    const violations: string[] = []
    for (const file of files) {
      const from = relative(root, file).split('/')[0] as string
      const text = readFileSync(file, 'utf8')
      for (const match of text.matchAll(/from '(\.[^']+)'|import\('(\.[^']+)'\)/g)) {
        const specifier = match[1] ?? match[2] ?? ''
        const target = relative(root, join(file, '..', specifier)).split('/')[0] as string
        if (target === from || target.startsWith('..')) continue
        if (!(allowed[from] ?? []).includes(target))
          violations.push(`${relative(root, file)} imports ${specifier} (${from} → ${target})`)
      }
    }
    expect(violations).toEqual([])
  })

  it('keeps rules free of I/O: only domain and rxjs', () => {
    const bad = files
      .filter((file) => relative(root, file).startsWith('rules/'))
      .flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/from '([^.][^']*)'/g)].map((m) => m[1]))
      .filter((pkg) => pkg !== 'rxjs' && pkg !== 'zod')
    expect(bad).toEqual([])
  })
})
