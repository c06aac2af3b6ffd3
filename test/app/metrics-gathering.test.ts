import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { gatherMetrics } from '../../app/readiness.js'
import { ControlPlane } from '../../app/roles/control-plane.js'

const cpuOf = (text: string, role: string) =>
  new RegExp(`^siteward_thread_cpu_seconds_total\\{role="${role}"\\} (\\S+)$`, 'm').exec(text)?.[1]

describe("the API's metrics page over the other roles (issue 14)", () => {
  let dir: string
  const planes: ControlPlane[] = []
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'siteward-plane-'))
  })
  afterEach(() => {
    for (const plane of planes.splice(0)) plane.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it("still shows a role's CPU when it is too busy to answer, from the thread it named before", async () => {
    let busy = false
    const edge = new ControlPlane(dir, 'edge', {
      readiness: async () => [],
      // A saturated edge: its answer comes after the API has stopped waiting.
      metrics: () =>
        busy
          ? new Promise((resolve) => setTimeout(() => resolve(''), 1_500))
          : Promise.resolve('edge_ok 1\n'),
    })
    const api = new ControlPlane(dir, 'api', { readiness: async () => [], metrics: async () => '' })
    planes.push(edge, api)

    const answered = await gatherMetrics(api, ['edge'], async () => '')
    expect(answered).toContain('edge_ok 1')
    expect(answered).toContain('siteward_role_up{role="edge"} 1')
    expect(Number(cpuOf(answered, 'edge'))).toBeGreaterThanOrEqual(0)

    busy = true
    const silent = await gatherMetrics(api, ['edge'], async () => '')
    expect(silent).not.toContain('edge_ok 1')
    expect(silent).toContain('siteward_role_up{role="edge"} 0')
    expect(cpuOf(silent, 'edge')).toBeDefined() // read by the API from /proc itself
  })
})
