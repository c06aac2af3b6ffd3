#!/usr/bin/env node
// The `siteward` command: runs the compiled build when there is one (npm start builds it),
// otherwise the TypeScript sources through tsx.
import { existsSync } from 'node:fs'

const compiled = new URL('../dist/app/main.js', import.meta.url)
if (existsSync(compiled)) {
  await import(compiled.href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import(new URL('../app/main.ts', import.meta.url).href)
}
