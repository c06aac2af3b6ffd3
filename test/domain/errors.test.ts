import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { errorCatalog } from '../../domain/errors.js'

describe('error codes are documented (CONTRACT §5)', () => {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('### Error codes'))
  const documented = new Map(
    [...section.matchAll(/^\| `([A-Z_]+)`\s*\| (\d{3})\s*\|/gm)].map((match) => [
      match[1] as string,
      Number(match[2]),
    ]),
  )

  it('lists every code of the registry in the README with its HTTP status, and nothing else', () => {
    const registry = new Map(Object.entries(errorCatalog).map(([code, entry]) => [code, entry.status]))
    expect(documented).toEqual(registry)
  })
})
