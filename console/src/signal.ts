// The unmistakable signal of a new critical alert: a banner that stays until dismissed, the tab
// title, a tone, and a desktop notification when the reader allowed them; all in the language
// the reader has chosen, also after a switch. Browsers play sound only once the reader has used
// the page since it was loaded, so a wall display reloaded overnight would stay silent without
// saying so: the board shows whether sound is on and turns it on (and asks once for desktop
// notifications, which need no click after that) with one click.

import { subjectText, valueText } from './alert-view.js'
import type { Alert } from './api.js'
import { h, replace } from './dom.js'
import { t } from './i18n.js'
import { siteName } from './names.js'

let shown: Alert | null = null
let audio: AudioContext | null = null
const controls = new Set<HTMLElement>()

const soundOn = (): boolean => audio?.state === 'running'

function context(): AudioContext | null {
  try {
    audio ??= new AudioContext()
    audio.onstatechange = () => {
      for (const control of controls) {
        if (control.isConnected) drawControl(control)
        else controls.delete(control) // its board was left
      }
      drawBanner()
    }
  } catch {
    audio = null // no audio device: the banner and the title still signal
  }
  return audio
}

function tone(): void {
  const sound = context()
  if (sound === null || sound.state !== 'running') return
  const oscillator = sound.createOscillator()
  oscillator.frequency.value = 880
  oscillator.connect(sound.destination)
  oscillator.start()
  oscillator.stop(sound.currentTime + 0.4)
}

function notify(alert: Alert): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return
  new Notification(t('newCritical'), {
    body: `${siteName(alert.siteId)} · ${alert.deviceId} · ${subjectText(alert)} ${valueText(alert)}`,
    requireInteraction: true,
    tag: alert.id,
  })
}

function title(): void {
  document.title = shown === null ? 'Siteward' : `⚠ ${t('newCritical')} · Siteward`
}

function drawBanner(): void {
  const banner = document.getElementById('critical-banner') as HTMLElement
  banner.hidden = shown === null
  if (shown === null) {
    replace(banner)
    return
  }
  replace(
    banner,
    h('strong', {}, `⚠ ${t('newCritical')}: `),
    h(
      'a',
      { class: 'banner-link', href: `#/alerts/${encodeURIComponent(shown.id)}` },
      `${siteName(shown.siteId)} · ${shown.deviceId} · ${subjectText(shown)} ${valueText(shown)}`,
    ),
    soundOn() ? null : h('span', { class: 'muted' }, ` (${t('soundOff')})`),
    h(
      'button',
      {
        type: 'button',
        onclick: () => {
          shown = null
          drawBanner()
          title()
        },
      },
      t('dismiss'),
    ),
  )
}

function drawControl(control: HTMLElement): void {
  replace(
    control,
    soundOn()
      ? h('span', { class: 'sound on' }, t('soundIsOn'))
      : h(
          'button',
          {
            type: 'button',
            class: 'sound off',
            onclick: () => {
              // A click is what lets the browser play: resume now, and ask for notifications once.
              void context()?.resume()
              if (typeof Notification !== 'undefined' && Notification.permission === 'default')
                void Notification.requestPermission()
            },
          },
          `${t('soundOff')} · ${t('turnSoundOn')}`,
        ),
  )
}

export const criticalSignal = {
  announce(alert: Alert): void {
    shown = alert
    drawBanner()
    title()
    tone()
    notify(alert)
  },
  /** The banner and the title again, in the language just chosen. */
  refresh(): void {
    drawBanner()
    title()
  },
  /** Whether sound is on, and the one click that turns it on. */
  soundControl(): HTMLElement {
    const control = h('p', { class: 'sound-state', role: 'status' })
    context()
    controls.add(control)
    drawControl(control)
    return control
  },
}
