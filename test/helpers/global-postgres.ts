import 'vitest'
import type { TestProject } from 'vitest/node'
import { postgresBinDir, type RunningPostgres, startPostgres } from './postgres.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** postgres://… of the throw-away cluster the suites share, or '' when none is available. */
    postgresUrl: string
    postgresSkipReason: string
  }
}

let server: RunningPostgres | null = null

/**
 * One PostgreSQL for the whole run (issue 15): SITEWARD_TEST_DATABASE_URL, or a throw-away
 * cluster from Debian's `postgresql`. Without either, PostgreSQL suites skip with the reason
 * printed; under REQUIRE_POSTGRES=1 (CI) that is a failure instead.
 */
export async function setup(project: TestProject): Promise<void> {
  let url = process.env.SITEWARD_TEST_DATABASE_URL ?? ''
  let reason = ''
  if (url === '') {
    if (postgresBinDir() === null) {
      reason =
        'no PostgreSQL server programs and SITEWARD_TEST_DATABASE_URL unset (apt-get install postgresql)'
    } else {
      try {
        server = await startPostgres()
        url = server.url
      } catch (error) {
        // e.g. root without Debian's postgres user: the other suites still run
        reason = `could not start a throw-away PostgreSQL: ${(error as Error).message}`
      }
    }
  }
  if (url === '' && process.env.REQUIRE_POSTGRES === '1') throw new Error(`REQUIRE_POSTGRES=1 but ${reason}`)
  if (reason !== '') console.warn(`[siteward tests] PostgreSQL suites will be skipped: ${reason}`)
  project.provide('postgresUrl', url)
  project.provide('postgresSkipReason', reason)
}

export async function teardown(): Promise<void> {
  await server?.stop()
}
