// Renders a saved benchmark run again: node --import tsx bench/render.ts bench/results/FILE.json
import { readFileSync } from 'node:fs'
import { type BenchResults, report } from './report.js'

const file = process.argv[2]
if (file === undefined) throw new Error('usage: bench/render.ts bench/results/FILE.json')
process.stdout.write(report(JSON.parse(readFileSync(file, 'utf8')) as BenchResults))
