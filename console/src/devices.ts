// Devices in the caller's scope: online or offline, last seen, messages rejected and why.
import { api, type Me } from './api.js'
import { h, replace } from './dom.js'
import { formatTime, t } from './i18n.js'
import { siteName } from './names.js'

export interface Site {
  id: string
  name: string
  region: string
}

export interface Device {
  id: string
  siteId: string
  kind: string
  name: string | null
  online: boolean
  lastSeenAt: string | null
  rejectedCount: number
  lastRejectReason: string | null
}

export function onlineBadge(online: boolean): HTMLElement {
  return h(
    'span',
    { class: `presence ${online ? 'online' : 'offline'}` },
    online ? `● ${t('online')}` : `○ ${t('offline')}`,
  )
}

/** The device table, with extra columns per device when given (the site page adds completeness). */
export function deviceTable(
  devices: Device[],
  extra?: { head: string; cell: (device: Device) => string },
): HTMLElement {
  const head = [t('device'), t('site'), t('kind'), t('online'), t('lastSeen'), t('rejected'), t('lastReason')]
  if (extra !== undefined) head.push(extra.head)
  return h(
    'table',
    { class: 'devices' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        head.map((label) => h('th', { scope: 'col' }, label)),
      ),
    ),
    h(
      'tbody',
      {},
      devices.map((device) =>
        h(
          'tr',
          { 'data-device-id': device.id },
          h(
            'th',
            { scope: 'row' },
            h(
              'a',
              { href: `#/devices/${encodeURIComponent(device.id)}` },
              device.name === null ? device.id : `${device.id} (${device.name})`,
            ),
          ),
          h(
            'td',
            {},
            h('a', { href: `#/sites/${encodeURIComponent(device.siteId)}` }, siteName(device.siteId)),
          ),
          h('td', {}, t(device.kind === 'pit' ? 'kindPit' : 'kindCrane')),
          h('td', {}, onlineBadge(device.online)),
          h('td', {}, device.lastSeenAt === null ? t('never') : formatTime(device.lastSeenAt)),
          h('td', {}, device.rejectedCount),
          h('td', {}, device.lastRejectReason ?? '—'),
          extra === undefined ? null : h('td', {}, extra.cell(device)),
        ),
      ),
    ),
  )
}

export function renderDevices({ main }: { main: HTMLElement; me: Me }): void {
  const body = h('div', {}, t('loading'))
  replace(main, h('h2', {}, t('devices')), body)
  void (async () => {
    const { items: sites } = await api.get<{ items: Site[] }>('/api/sites')
    const lists = await Promise.all(
      sites.map((site) => api.get<{ items: Device[] }>(`/api/sites/${encodeURIComponent(site.id)}/devices`)),
    )
    replace(body, deviceTable(lists.flatMap((list) => list.items)))
  })().catch((error: unknown) =>
    replace(body, h('p', { class: 'problem', role: 'alert' }, `${t('error')}: ${String(error)}`)),
  )
}
