import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Registry, SettingsStore } from '../../domain/ports.js'

export interface SettingsUnderTest {
  readonly settings: SettingsStore
  readonly registry: Registry
  close(): Promise<void>
}

/** What every settings store must do, on SQLite and PostgreSQL alike (issue 15). */
export function describeSettingsContract(
  name: string,
  open: () => Promise<SettingsUnderTest>,
  skipReason = '',
): void {
  describe.skipIf(skipReason !== '')(
    `Settings contract: ${name}${skipReason === '' ? '' : ` (skipped: ${skipReason})`}`,
    () => {
      let store: SettingsUnderTest
      beforeEach(async () => {
        store = await open()
        await store.registry.upsertSite({ id: 'S1', name: 'S1', region: '330106' })
        await store.registry.upsertSite({ id: 'S2', name: 'S2', region: '330106' })
        await store.registry.createDevice({ siteId: 'S1', id: 'TC-01', kind: 'crane' }, 'h')
      })
      afterEach(async () => {
        await store.close()
      })

      it('moves its version with every threshold change and every site change, on any connection', async () => {
        const { settings, registry } = store
        const versions = [await settings.dataVersion()]
        await settings.putRuleOverride('S1', 'crane.moment', null, { levels: { warning: 85 } }, 'li')
        versions.push(await settings.dataVersion())
        await settings.putLoadChart('TC-01', 'S1', [{ radiusM: 10, ratedLoadT: 6 }], 'li')
        versions.push(await settings.dataVersion())
        await registry.upsertSite({ id: 'S1', name: 'S1', region: '330106', pitGrade: 2 })
        versions.push(await settings.dataVersion())
        const unchanged = await settings.dataVersion()
        expect(new Set(versions).size).toBe(4)
        expect(versions).toEqual([...versions].sort((a, b) => a - b))
        expect(unchanged).toBe(versions.at(-1))
      })

      it('keeps overrides per site and device, and records who changed what', async () => {
        const { settings } = store
        const site = await settings.putRuleOverride(
          'S1',
          'crane.moment',
          null,
          { levels: { warning: 85 } },
          '李工',
        )
        const device = await settings.putRuleOverride(
          'S1',
          'crane.moment',
          'TC-01',
          { levels: { alarm: 120 } },
          'admin',
          ['alarm 100 → 120 %'],
        )
        await settings.putRuleOverride('S1', 'crane.moment', null, { levels: { warning: 80 } }, '李工')
        expect(site).toMatchObject({ siteId: 'S1', deviceId: null, updatedBy: '李工' })
        const overrides = (await settings.ruleOverrides()).sort(
          (a, b) => Number(a.deviceId !== null) - Number(b.deviceId !== null),
        )
        expect(overrides.map((o) => [o.deviceId, o.settings])).toEqual([
          [null, { levels: { warning: 80 } }],
          ['TC-01', { levels: { alarm: 120 } }],
        ])
        expect(overrides[1]?.updatedAt).toBe(device.updatedAt)
        const changes = await settings.changes(['S1'], 10)
        expect(changes.map((c) => [c.subject, c.deviceId, c.by, c.change, c.laxer])).toEqual([
          ['rule:crane.moment', null, '李工', { levels: { warning: 80 } }, []],
          ['rule:crane.moment', 'TC-01', 'admin', { levels: { alarm: 120 } }, ['alarm 100 → 120 %']],
          ['rule:crane.moment', null, '李工', { levels: { warning: 85 } }, []],
        ])
        expect(await settings.changes(['S1'], 1)).toHaveLength(1)
        expect(await settings.changes(['S2'], 10)).toEqual([])
        expect(await settings.changes([], 10)).toEqual([])
      })

      it('replaces a point: a field left out is no longer set', async () => {
        const { settings } = store
        const first = await settings.putPoint(
          'S1',
          'WY-1',
          { item: 'wall_top_horizontal', baseline: 1.5, cumulativeAlarm: 30, expectedIntervalMs: 86_400_000 },
          '测量员',
        )
        expect(first).toMatchObject({
          siteId: 'S1',
          pointCode: 'WY-1',
          item: 'wall_top_horizontal',
          baseline: 1.5,
          cumulativeAlarm: 30,
          expectedIntervalMs: 86_400_000,
          designValue: null,
          updatedBy: '测量员',
        })
        await settings.putPoint('S1', 'WY-1', { item: 'wall_top_horizontal', rateAlarm: 3 }, '测量员')
        expect(await settings.points()).toEqual([
          expect.objectContaining({ pointCode: 'WY-1', baseline: null, cumulativeAlarm: null, rateAlarm: 3 }),
        ])
        expect((await settings.changes(['S1'], 10)).map((c) => c.subject)).toEqual([
          'point:WY-1',
          'point:WY-1',
        ])
      })

      it("keeps a crane's load chart and a device's settings, each change recorded on its site", async () => {
        const { settings } = store
        const chart = [
          { radiusM: 10, ratedLoadT: 6 },
          { radiusM: 50, ratedLoadT: 1.2 },
        ]
        await settings.putLoadChart('TC-01', 'S1', chart, 'admin')
        const put = await settings.putDeviceSettings(
          'TC-01',
          'S1',
          { ratedCapacityT: 6, radiusMaxM: 50 },
          { radiusMaxM: 50 },
          'admin',
        )
        expect(put).toMatchObject({ deviceId: 'TC-01', settings: { ratedCapacityT: 6, radiusMaxM: 50 } })
        expect(await settings.loadCharts()).toEqual(new Map([['TC-01', chart]]))
        expect((await settings.deviceSettings()).get('TC-01')).toEqual(put)
        expect((await settings.changes(['S1'], 10)).map((c) => [c.subject, c.deviceId, c.change])).toEqual([
          ['device-settings', 'TC-01', { radiusMaxM: 50 }],
          ['load-chart', 'TC-01', chart],
        ])
      })
    },
  )
}
