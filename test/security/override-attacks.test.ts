import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '../../domain/alert.js'
import { connectDevice, startTestEngine, type TestEngine, waitFor } from '../helpers/engine.js'
import { apiClient } from '../helpers/http.js'

interface OverrideItem {
  siteId: string
  ruleId: string
  deviceId: string | null
  laxer: string[]
  updatedBy: string
  defaults: { levels: Record<string, number> | null }[]
}

/** A malicious supervisor switching statutory limits off, unseen (issue 13). */
describe('overrides within the catalogue bounds, visible to regulators', () => {
  let t: TestEngine
  let secret: string
  const tokens: Record<string, string> = {}
  const api = apiClient(() => t.httpUrl)
  const put = (who: string, ruleId: string, body: unknown) =>
    api('PUT', `/api/sites/S1/rules/${ruleId}`, tokens[who], body)

  beforeAll(async () => {
    t = await startTestEngine({ env: { SITEWARD_HTTP_RATE_LIMIT: '100000' } })
    await t.provisioning.addSite({ id: 'S1', name: 'Site A', region: '330106', pitGrade: 1, pitDepthM: 15 })
    await t.provisioning.addSite({ id: 'S2', name: 'Site B', region: '440300' })
    secret = (await t.provisioning.addDevice({ siteId: 'S1', id: 'TC-01', kind: 'crane' })).secret
    tokens.supervisor = await t.token('supervisor', { sites: ['S1'] })
    tokens.admin = await t.token('admin')
    tokens.regulator = await t.token('regulator', { region: '330106' })
    tokens.otherRegulator = await t.token('regulator', { region: '440300' })
  })
  afterAll(async () => {
    await t?.stop()
  })

  it('refuses a supervisor who loosens a limit or switches a rule off, and says why', async () => {
    const huge = await put('supervisor', 'crane.moment', { levels: { alarm: 1e300, critical: 1e301 } })
    expect(huge.status).toBe(400) // laxer than 100 and past every bound: nobody may
    expect(huge.body.error?.message).toMatch(/alarm may not be laxer than 100/)
    const lax = await put('supervisor', 'crane.moment', { levels: { warning: 93 } })
    expect(lax.status).toBe(403)
    expect(lax.body.error?.message).toMatch(
      /only an admin may loosen crane\.moment \(warning 93, laxer than 90\)/,
    )
    const off = await put('supervisor', 'crane.moment', { enabled: false })
    expect(off.status).toBe(400)
    expect(off.body.error?.message).toMatch(/crane\.moment may not be switched off/)
    const pit = await put('supervisor', 'pit.wall_top_horizontal.cumulative', { levels: { alarm: 1_000 } })
    expect(pit.status).toBe(400) // grade 1, 15 m: 20 mm from the table
    expect(pit.body.error?.message).toMatch(/alarm may not be laxer than 20/)
    const slower = await put('supervisor', 'crane.moment', { minSamples: 50 })
    expect(slower.status).toBe(400)
    expect(slower.body.error?.message).toMatch(/minSamples may be at most 1/)
  })

  it("refuses a site-wide override that would loosen a crane's own limit", async () => {
    const set = await api('PUT', '/api/devices/TC-01/settings', tokens.supervisor, { hookHeightMaxM: 50 })
    expect(set.status).toBe(200)
    // The site's table knows no height limit; TC-01's own setting does, and the catalogue gives
    // the rule no bounds: nobody may loosen it, neither site-wide nor for the crane.
    const lax = await put('supervisor', 'crane.hook_height', { levels: { alarm: 500 } })
    expect(lax.status).toBe(400)
    expect(lax.body.error?.message).toMatch(/alarm may not be laxer than 50/)
    const forCrane = await put('supervisor', 'crane.hook_height', {
      deviceId: 'TC-01',
      levels: { alarm: 500 },
    })
    expect(forCrane.status).toBe(400)
    const stricter = await put('supervisor', 'crane.hook_height', { levels: { alarm: 45 } })
    expect(stricter.body.error?.message).toBeUndefined()
    expect(stricter.status).toBe(200)
  })

  it("lets an admin loosen only within the catalogue's bounds, and anyone tighten", async () => {
    expect((await put('admin', 'crane.moment', { levels: { alarm: 150 } })).status).toBe(400)
    expect((await put('admin', 'crane.moment', { levels: { warning: 96 } })).body.error?.message).toMatch(
      /warning may be at most 95/,
    )
    expect((await put('admin', 'crane.moment', { levels: { warning: 95 } })).status).toBe(200)
    expect((await put('supervisor', 'crane.load', { levels: { alarm: 95 } })).status).toBe(200)
    expect((await put('admin', 'device.unknown_alarm', { enabled: false })).status).toBe(200)
  })

  it('lists every override with who set it and how it loosens the rule, for the regulator of the region only', async () => {
    const listed = await api('GET', '/api/overrides', tokens.regulator)
    expect(listed.status).toBe(200)
    const items = listed.body.items as OverrideItem[]
    const byRule = Object.fromEntries(items.map((item) => [item.ruleId, item]))
    expect(byRule['crane.moment']).toMatchObject({ siteId: 'S1', laxer: ['warning 95, laxer than 90'] })
    expect(byRule['crane.moment']?.updatedBy).toMatch(/^admin-/)
    expect(byRule['crane.moment']?.defaults[0]?.levels).toEqual({ warning: 90, alarm: 100, critical: 110 })
    expect(byRule['crane.load']).toMatchObject({ laxer: [] })
    expect(byRule['device.unknown_alarm']).toMatchObject({ laxer: ['the rule is switched off'] })
    const changes = listed.body.changes as { subject: string; by: string; laxer: string[] }[]
    expect(changes.map((change) => change.subject)).toEqual([
      'rule:device.unknown_alarm',
      'rule:crane.load',
      'rule:crane.moment',
      'rule:crane.hook_height',
      'device-settings',
    ])
    expect(changes.find((change) => change.subject === 'device-settings')?.by).toMatch(/^supervisor-/)
    const elsewhere = await api('GET', '/api/overrides', tokens.otherRegulator)
    expect(elsewhere.body.items).toEqual([])
    expect((await api('GET', '/api/overrides?siteId=S1', tokens.otherRegulator)).status).toBe(404)
  })

  it('names the override, who set it and when, on the timeline of the alert it raised', async () => {
    const crane = await connectDevice(t.mqttUrl, 'TC-01', secret)
    await crane.publishAsync(
      'sites/S1/devices/TC-01/telemetry',
      JSON.stringify({ ts: Date.now(), loadPct: 96 }),
      {
        qos: 1,
      },
    )
    const alert = await waitFor(async () => {
      const { body } = await api('GET', '/api/alerts?ruleId=crane.load', tokens.regulator)
      return (body.items as Alert[])[0]
    }, 'the alert under the override')
    expect(alert).toMatchObject({ severity: 'alarm', threshold: 95 })
    const events = await api('GET', `/api/alerts/${alert.id}/events`, tokens.regulator)
    const raised = (events.body.items as { type: string; data: { origin: string } }[])[0]
    expect(raised?.type).toBe('raised')
    expect(raised?.data.origin).toMatch(/^site override by supervisor-[\w-]+, \d{4}-\d\d-\d\d \d\d:\d\d UTC$/)
    await crane.endAsync()
  })
})
