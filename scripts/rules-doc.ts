// Renders RULES.md from the rule catalogue: `npm run rules:doc` (`--check` exits 1 when it is stale).
import { readFileSync, writeFileSync } from 'node:fs'
import { loadRuleCatalogue } from '../app/rule-catalogue.js'
import { renderRulesDoc } from '../app/rules-doc.js'

const target = new URL('../RULES.md', import.meta.url)
const rendered = renderRulesDoc(loadRuleCatalogue(new URL('../seeds/rules', import.meta.url).pathname))
if (process.argv.includes('--check')) {
  const current = readFileSync(target, 'utf8')
  if (current !== rendered) {
    console.error('RULES.md is stale: run npm run rules:doc')
    process.exitCode = 1
  }
} else {
  writeFileSync(target, rendered)
  console.warn(`wrote ${target.pathname}`)
}
