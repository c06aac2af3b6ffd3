import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import 'vitest'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Why the browser suites cannot run here, or '' when Chromium is available. */
    browserSkipReason: string
  }
}

export const chromiumPath = '/usr/bin/chromium'

/**
 * Builds the web console from its sources (about 2 s), so the browser suites test the code as it
 * is; finds Debian's Chromium. Without Chromium the browser suites skip with the reason printed;
 * under REQUIRE_BROWSER=1 (CI) that is a failure instead.
 */
export function setup(project: TestProject): void {
  execFileSync(
    process.execPath,
    ['node_modules/vite/bin/vite.js', 'build', '--config', 'console/vite.config.ts', '--logLevel', 'warn'],
    {
      stdio: 'inherit',
    },
  )
  const reason = existsSync(chromiumPath) ? '' : `no ${chromiumPath} (apt-get install chromium)`
  if (reason !== '' && process.env.REQUIRE_BROWSER === '1') throw new Error(`REQUIRE_BROWSER=1 but ${reason}`)
  if (reason !== '') console.warn(`[siteward tests] browser suites will be skipped: ${reason}`)
  project.provide('browserSkipReason', reason)
}
