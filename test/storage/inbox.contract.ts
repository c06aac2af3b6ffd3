import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ChangeCounters, ManualInboxStore, Registry } from '../../domain/ports.js'

export interface InboxUnderTest {
  readonly inbox: ManualInboxStore
  readonly counters: ChangeCounters
  readonly registry: Registry
  close(): Promise<void>
}

const day = 86_400_000

/** The manual-readings inbox and the change counters on every store (issue 15). */
export function describeInboxContract(
  name: string,
  open: () => Promise<InboxUnderTest>,
  skipReason = '',
): void {
  describe.skipIf(skipReason !== '')(
    `Inbox and counters contract: ${name}${skipReason === '' ? '' : ` (skipped: ${skipReason})`}`,
    () => {
      let store: InboxUnderTest
      beforeEach(async () => {
        store = await open()
      })
      afterEach(async () => {
        await store.close()
      })

      it('files, claims and answers submissions in order; one not yet claimed can be withdrawn', async () => {
        const { inbox } = store
        const now = Date.UTC(2026, 11, 4, 9)
        const first = await inbox.file('S1', '安全员王', { objects: [{ windMps: 3 }] }, now)
        const second = await inbox.file('S1', '安全员王', { objects: [] }, now + 1)
        const third = await inbox.file('S2', 'li', { objects: [] }, now + 2)
        expect(second).toBeGreaterThan(first)
        expect((await inbox.pending(10)).map((s) => [s.id, s.siteId, s.claimedAt])).toEqual([
          [first, 'S1', null],
          [second, 'S1', null],
          [third, 'S2', null],
        ])
        expect((await inbox.pending(10))[0]).toMatchObject({
          enteredBy: '安全员王',
          body: { objects: [{ windMps: 3 }] },
          filedAt: now,
        })
        expect(await inbox.resultOf(first)).toBeUndefined()
        expect(await inbox.oldestClaim()).toBeNull()
        await inbox.claim(first, 4_096)
        await inbox.claim(second, 8_192)
        expect(await inbox.oldestClaim()).toBe(4_096)
        expect(await inbox.withdraw(first)).toBe(false) // claimed: the edge answers it
        expect(await inbox.withdraw(third)).toBe(true)
        expect(await inbox.resultOf(third)).toBeNull() // gone
        await inbox.answer(first, { ok: { accepted: 1 } }, now + 10)
        expect(await inbox.resultOf(first)).toEqual({ ok: { accepted: 1 } })
        expect((await inbox.pending(10)).map((s) => s.id)).toEqual([second])
        expect(await inbox.oldestClaim()).toBe(8_192)
        expect(await inbox.prune(now + 10 + day - 1)).toBe(0)
        expect(await inbox.prune(now + 10 + day + 1)).toBe(1)
        expect(await inbox.resultOf(first)).toBeNull()
      })

      it('moves the credentials counter when a device is disabled or re-keyed, not when renamed', async () => {
        const { registry, counters } = store
        await registry.upsertSite({ id: 'S1', name: 'S1', region: '330106' })
        await registry.createDevice({ siteId: 'S1', id: 'TC-01', kind: 'crane' }, 'h')
        const before = await counters.value('credentials')
        await registry.updateDeviceAccess('TC-01', { disabled: true })
        const disabled = await counters.value('credentials')
        await registry.updateDeviceAccess('TC-01', { secretHash: 'h2' })
        const rekeyed = await counters.value('credentials')
        expect(disabled).toBeGreaterThan(before)
        expect(rekeyed).toBeGreaterThan(disabled)
        const settings = await counters.value('settings')
        await registry.upsertSite({ id: 'S1', name: 'renamed', region: '330106' })
        expect(await counters.value('credentials')).toBe(rekeyed)
        expect(await counters.value('settings')).toBeGreaterThan(settings)
      })
    },
  )
}
