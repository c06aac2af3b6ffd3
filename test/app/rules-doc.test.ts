import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadRuleCatalogue } from '../../app/rule-catalogue.js'
import { renderRulesDoc } from '../../app/rules-doc.js'

const root = `${import.meta.dirname}/../..`

describe('RULES.md', () => {
  const rules = loadRuleCatalogue(`${root}/seeds/rules`)
  const doc = readFileSync(`${root}/RULES.md`, 'utf8')

  it('is the catalogue rendered: edit seeds/rules, then npm run rules:doc', () => {
    expect(doc).toBe(renderRulesDoc(rules))
  })

  it('lists every rule once, with its sources, and marks those with UNCONFIRMED numbers', () => {
    for (const rule of rules) {
      const rows = doc.split('\n').filter((line) => line.startsWith(`| \`${rule.id}\``))
      expect(rows, rule.id).toHaveLength(1)
      const unconfirmed = rule.sources.some((source) => source.grade === 'UNCONFIRMED')
      expect(rows[0]?.includes('UNCONFIRMED'), rule.id).toBe(unconfirmed)
      for (const source of rule.sources) expect(rows[0], rule.id).toContain(source.standard)
    }
  })
})
