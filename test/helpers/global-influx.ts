import 'vitest'
import type { TestProject } from 'vitest/node'
import { influxdOnPath, type RunningInfluxd, startInfluxd } from './influxd.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the InfluxDB the suites share, or '' when none is available. */
    influxUrl: string
    influxSkipReason: string
  }
}

let influxd: RunningInfluxd | null = null

/**
 * One InfluxDB for the whole run (CONTRACT §1.2): SITEWARD_TEST_INFLUX_URL, or a throw-away
 * influxd from PATH. Without either, InfluxDB suites skip with the reason printed; under
 * REQUIRE_INFLUX=1 (CI) that is a failure instead.
 */
export async function setup(project: TestProject): Promise<void> {
  let url = process.env.SITEWARD_TEST_INFLUX_URL ?? ''
  let reason = ''
  if (url === '') {
    if (influxdOnPath() === null) {
      reason = 'no influxd on PATH and SITEWARD_TEST_INFLUX_URL unset (apt-get install influxdb)'
    } else {
      influxd = await startInfluxd()
      url = influxd.url
    }
  }
  if (url === '' && process.env.REQUIRE_INFLUX === '1') throw new Error(`REQUIRE_INFLUX=1 but ${reason}`)
  if (reason !== '') console.warn(`[siteward tests] InfluxDB suites will be skipped: ${reason}`)
  project.provide('influxUrl', url)
  project.provide('influxSkipReason', reason)
}

export async function teardown(): Promise<void> {
  await influxd?.stop()
}
