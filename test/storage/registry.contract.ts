import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SitewardError } from '../../domain/errors.js'
import type { Registry } from '../../domain/ports.js'

/** A registry under test, and a way to write what only the projector writes (device state). */
export interface RegistryUnderTest {
  readonly registry: Registry
  markHeard(deviceId: string, online: boolean, lastSeenAt: number): Promise<void>
  close(): Promise<void>
}

async function codeOf(action: Promise<unknown>): Promise<string> {
  try {
    await action
  } catch (error) {
    return error instanceof SitewardError ? error.code : String(error)
  }
  return 'no error'
}

/** What every registry must do, run against SQLite and PostgreSQL alike (issue 15). */
export function describeRegistryContract(
  name: string,
  open: () => Promise<RegistryUnderTest>,
  skipReason = '',
): void {
  describe.skipIf(skipReason !== '')(
    `Registry contract: ${name}${skipReason === '' ? '' : ` (skipped: ${skipReason})`}`,
    () => {
      let store: RegistryUnderTest
      let registry: Registry
      beforeEach(async () => {
        store = await open()
        registry = store.registry
      })
      afterEach(async () => {
        await store.close()
      })

      it('creates and updates sites: an absent field is kept, an explicit null removes it', async () => {
        const created = await registry.upsertSite({
          id: 'S1',
          name: '一号工地',
          region: '330106',
          pitGrade: 1,
          pitDepthM: 15,
          supportType: 'pile_wall',
          baseSlabCast: true,
        })
        expect(created).toMatchObject({
          id: 'S1',
          name: '一号工地',
          region: '330106',
          pitGrade: 1,
          pitDepthM: 15,
          supportType: 'pile_wall',
          baseSlabCast: true,
          rockSocketed: false,
        })
        const renamed = await registry.upsertSite({ id: 'S1', name: 'Site one', region: '330106' })
        expect(renamed).toMatchObject({ name: 'Site one', pitGrade: 1, pitDepthM: 15, baseSlabCast: true })
        expect(renamed.createdAt).toBe(created.createdAt)
        const cleared = await registry.upsertSite({
          id: 'S1',
          name: 'Site one',
          region: '330106',
          pitGrade: null,
          pitDepthM: null,
          supportType: null,
          baseSlabCast: false,
        })
        expect(cleared).toMatchObject({
          pitGrade: null,
          pitDepthM: null,
          supportType: null,
          baseSlabCast: false,
        })
        expect(await registry.getSite('S1')).toEqual(cleared)
        expect(await registry.getSite('nope')).toBeUndefined()
      })

      it('lists sites by ids and region, in id order', async () => {
        for (const [id, region] of [
          ['S3', '330106'],
          ['S1', '330106'],
          ['S2', '440305'],
        ] as const)
          await registry.upsertSite({ id, name: id, region })
        const ids = async (filter: Parameters<Registry['listSites']>[0]) =>
          (await registry.listSites(filter)).map((site) => site.id)
        expect(await ids({})).toEqual(['S1', 'S2', 'S3'])
        expect(await ids({ region: '330106' })).toEqual(['S1', 'S3'])
        expect(await ids({ ids: ['S2', 'S3'] })).toEqual(['S2', 'S3'])
        expect(await ids({ ids: ['S2'], region: '330106' })).toEqual([])
        expect(await ids({ ids: [] })).toEqual([])
        expect(await ids({ region: null })).toEqual(['S1', 'S2', 'S3'])
      })

      it('creates devices on existing sites only, each id once; state starts empty', async () => {
        await registry.upsertSite({ id: 'S1', name: 'S1', region: '330106' })
        expect(await codeOf(registry.createDevice({ siteId: 'S9', id: 'TC-01', kind: 'crane' }, 'h'))).toBe(
          'SITE_NOT_FOUND',
        )
        const device = await registry.createDevice(
          { siteId: 'S1', id: 'TC-02', kind: 'crane', name: '2号塔吊' },
          'h',
        )
        expect(device).toMatchObject({
          id: 'TC-02',
          siteId: 'S1',
          kind: 'crane',
          name: '2号塔吊',
          online: false,
          lastSeenAt: null,
          acceptedCount: 0,
          rejectedCount: 0,
          duplicateCount: 0,
          disabledAt: null,
        })
        await registry.createDevice({ siteId: 'S1', id: 'PIT-01', kind: 'pit' }, 'h')
        expect(await codeOf(registry.createDevice({ siteId: 'S1', id: 'TC-02', kind: 'pit' }, 'h'))).toBe(
          'DEVICE_EXISTS',
        )
        expect((await registry.listDevices('S1')).map((d) => d.id)).toEqual(['PIT-01', 'TC-02'])
        expect(await registry.getDevice('TC-02')).toEqual(device)
        expect(await registry.getDevice('nope')).toBeUndefined()
        expect(await registry.heardDevices()).toEqual([])
        await store.markHeard('TC-02', true, 1_700_000_000_000)
        expect(await registry.heardDevices()).toEqual([
          { siteId: 'S1', deviceId: 'TC-02', kind: 'crane', online: true, lastSeenAt: 1_700_000_000_000 },
        ])
        expect(await registry.getDevice('TC-02')).toMatchObject({
          online: true,
          lastSeenAt: new Date(1_700_000_000_000).toISOString(),
        })
      })

      it('disables, enables and re-keys a device, each moving its credentials version', async () => {
        await registry.upsertSite({ id: 'S1', name: 'S1', region: '330106' })
        await registry.createDevice({ siteId: 'S1', id: 'TC-01', kind: 'crane' }, 'hash-1')
        const first = await registry.getCredentials('TC-01')
        expect(first).toMatchObject({
          id: 'TC-01',
          siteId: 'S1',
          kind: 'crane',
          secretHash: 'hash-1',
          disabledAt: null,
        })
        await new Promise((resolve) => setTimeout(resolve, 2)) // versions are ISO times
        expect(await registry.updateDeviceAccess('TC-01', { disabled: true })).toBe(true)
        const disabled = await registry.getCredentials('TC-01')
        expect(disabled?.disabledAt).not.toBeNull()
        expect(disabled?.updatedAt).not.toBe(first?.updatedAt)
        expect(disabled?.secretHash).toBe('hash-1')
        expect(await registry.updateDeviceAccess('TC-01', { disabled: false, secretHash: 'hash-2' })).toBe(
          true,
        )
        expect(await registry.getCredentials('TC-01')).toMatchObject({
          disabledAt: null,
          secretHash: 'hash-2',
        })
        expect(await registry.updateDeviceAccess('nope', { disabled: true })).toBe(false)
        expect(await registry.getCredentials('nope')).toBeUndefined()
      })

      it('issues tokens shown once, finds their principal by the token alone, and revokes them for good', async () => {
        await registry.upsertSite({ id: 'S1', name: 'S1', region: '330106' })
        expect(await codeOf(registry.issueToken({ role: 'officer', name: 'x', sites: ['S9'] }))).toBe(
          'SITE_NOT_FOUND',
        )
        const officer = await registry.issueToken({ role: 'officer', name: '安全员', sites: ['S1'] })
        const regulator = await registry.issueToken({ role: 'regulator', name: '监管', region: '330106' })
        expect(await registry.findPrincipal(officer.token)).toEqual({
          tokenId: officer.id,
          role: 'officer',
          name: '安全员',
          sites: ['S1'],
          region: null,
        })
        expect(await registry.findPrincipal(`${officer.token}x`)).toBeUndefined()
        const listed = await registry.listTokens()
        expect(listed.map((t) => [t.id, t.role, t.revokedAt])).toEqual(
          expect.arrayContaining([
            [officer.id, 'officer', null],
            [regulator.id, 'regulator', null],
          ]),
        )
        expect(JSON.stringify(listed)).not.toContain(officer.token)
        expect(await registry.revokeToken(officer.id)).toBe(true)
        expect(await registry.revokeToken(officer.id)).toBe(true) // revoking again keeps the first time
        expect(await registry.revokeToken('nope')).toBe(false)
        expect(await registry.findPrincipal(officer.token)).toBeUndefined()
        expect(await registry.isTokenActive(officer.id)).toBe(false)
        expect(await registry.isTokenActive(regulator.id)).toBe(true)
        const revokedAt = (await registry.listTokens()).find((t) => t.id === officer.id)?.revokedAt
        expect(revokedAt).not.toBeNull()
      })
    },
  )
}
