// One device: where it is, whether it is heard, what it sent that was refused and why (its dead
// letters), so an integrator can fix a device without reading the engine's log.
import { api, type Me } from './api.js'
import { type Device, onlineBadge } from './devices.js'
import { h, replace } from './dom.js'
import { formatTime, type MessageKey, t } from './i18n.js'
import { siteName } from './names.js'

interface Rejected {
  id: number
  receivedAt: string
  topic: string
  reason: string
  payload: string
}

export function renderDevicePage({ main }: { main: HTMLElement; me: Me }, deviceId: string): void {
  const body = h('div', {}, t('loading'))
  replace(
    main,
    h('p', {}, h('a', { href: '#/devices' }, `← ${t('devices')}`)),
    h('h2', {}, `${t('device')} ${deviceId}`),
    body,
  )
  const id = encodeURIComponent(deviceId)
  void (async () => {
    const [device, rejected] = await Promise.all([
      api.get<Device & { acceptedCount: number; duplicateCount: number; disabledAt: string | null }>(
        `/api/devices/${id}`,
      ),
      api.get<{ items: Rejected[] }>(`/api/devices/${id}/rejected?limit=50`),
    ])
    const row = (key: MessageKey, value: string | number | HTMLElement) => [
      h('dt', {}, t(key)),
      h('dd', {}, value),
    ]
    replace(
      body,
      h(
        'dl',
        { class: 'facts' },
        row(
          'site',
          h('a', { href: `#/sites/${encodeURIComponent(device.siteId)}` }, siteName(device.siteId)),
        ),
        row('kind', t(device.kind === 'pit' ? 'kindPit' : 'kindCrane')),
        row('online', device.disabledAt === null ? onlineBadge(device.online) : `⛔ ${t('disabled')}`),
        row('lastSeen', device.lastSeenAt === null ? t('never') : formatTime(device.lastSeenAt)),
        row('accepted', device.acceptedCount),
        row('duplicates', device.duplicateCount),
        row('rejected', device.rejectedCount),
        row('lastReason', device.lastRejectReason ?? '—'),
      ),
      h('h3', {}, t('rejectedMessages')),
      h('p', { class: 'hint' }, t('rejectedHint')),
      rejected.items.length === 0
        ? h('p', { class: 'empty' }, t('noneRejected'))
        : h(
            'table',
            { class: 'rejected' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                [t('receivedAt'), t('reason'), t('payload')].map((label) => h('th', { scope: 'col' }, label)),
              ),
            ),
            h(
              'tbody',
              {},
              rejected.items.map((letter) =>
                h(
                  'tr',
                  { 'data-rejected-id': letter.id },
                  h('td', {}, formatTime(letter.receivedAt)),
                  h('td', {}, letter.reason),
                  h('td', {}, h('code', { class: 'payload' }, letter.payload)),
                ),
              ),
            ),
          ),
    )
  })().catch((error: unknown) =>
    replace(body, h('p', { class: 'problem', role: 'alert' }, `${t('error')}: ${String(error)}`)),
  )
}
