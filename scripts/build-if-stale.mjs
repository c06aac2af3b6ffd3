// `npm start` builds first when the compiled output is missing or older than any source file.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const stamp = 'dist/.build-stamp'
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((max, entry) => {
    const path = join(dir, entry.name)
    return Math.max(max, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }, 0)

// The compiled folders (tsconfig.build.json) and the console.
const sources = ['domain', 'ingest', 'rules', 'alerts', 'storage', 'api', 'app', 'simulators']
const sourceTime = Math.max(
  ...sources.map(newest),
  newest('console'),
  statSync('package-lock.json').mtimeMs,
  statSync('tsconfig.build.json').mtimeMs,
)
if (existsSync(stamp) && statSync(stamp).mtimeMs >= sourceTime) process.exit(0)
console.error('siteward: building (tsc, and vite for the web console)…')
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
  stdio: 'inherit',
})
execFileSync(
  process.execPath,
  ['node_modules/vite/bin/vite.js', 'build', '--config', 'console/vite.config.ts', '--logLevel', 'warn'],
  { stdio: 'inherit' },
)
writeFileSync(stamp, new Date().toISOString())
