// The console's shell: sign-in, the navigation each role sees, the language switch, and a
// hash router (#/board, #/alerts/ID, #/incidents, #/reports, #/sites/ID, #/devices).
import 'uplot/dist/uPlot.min.css'
import './styles.css'
import { renderAlertPage } from './alert-page.js'
import { ApiError, api, type Me, session } from './api.js'
import { renderBoard } from './board.js'
import { renderDevicePage } from './device-page.js'
import { renderDevices } from './devices.js'
import { field, h, replace } from './dom.js'
import { language, type MessageKey, setLanguage, t } from './i18n.js'
import { renderIncidents } from './incidents.js'
import { loadNames, roleName } from './names.js'
import { renderReports } from './reports.js'
import { criticalSignal } from './signal.js'
import { renderSite } from './site.js'

const main = document.getElementById('main') as HTMLElement
const top = document.getElementById('top') as HTMLElement
let me: Me | null = null
let namesLoaded = false
/** Pages stop their streams and timers when the reader leaves them. */
let leavePage: () => void = () => {}

const pagesOf = (role: Me['role']): [string, MessageKey][] =>
  role === 'regulator'
    ? [
        ['#/incidents', 'incidents'],
        ['#/reports', 'reports'],
        ['#/devices', 'devices'],
      ]
    : [
        ['#/board', 'board'],
        ['#/incidents', 'incidents'],
        ['#/reports', 'reports'],
        ['#/devices', 'devices'],
      ]

function renderHeader(): void {
  // The accessible name starts with the visible text (WCAG 2.5.3), then says what it does.
  const languageButton = h(
    'button',
    {
      type: 'button',
      class: 'link',
      lang: language() === 'en' ? 'zh-CN' : 'en',
      'aria-label': `${t('language')} · ${t('languageLabel')}`,
      onclick: () => {
        setLanguage(language() === 'en' ? 'zh-CN' : 'en')
        void route()
      },
    },
    t('language'),
  )
  const nav =
    me === null
      ? null
      : h(
          'nav',
          { 'aria-label': 'Siteward' },
          h(
            'ul',
            {},
            pagesOf(me.role).map(([href, key]) =>
              h(
                'li',
                {},
                h('a', { href, 'aria-current': location.hash.startsWith(href) ? 'page' : undefined }, t(key)),
              ),
            ),
          ),
        )
  const user =
    me === null
      ? null
      : h(
          'span',
          { class: 'user' },
          `${t('signedInAs')}: ${me.name} (${roleName(me.role)})`,
          h(
            'button',
            {
              type: 'button',
              class: 'link',
              onclick: () => {
                session.signOut()
                me = null
                namesLoaded = false
                location.hash = '#/signin'
                void route()
              },
            },
            t('signOut'),
          ),
        )
  replace(
    top,
    h('h1', {}, h('a', { href: '#/' }, t('appName'))),
    nav,
    h('div', { class: 'tools' }, user, languageButton),
  )
}

function renderSignIn(problem?: string): void {
  const input = h('input', { type: 'password', name: 'token', autocomplete: 'off', required: true })
  const form = h(
    'form',
    {
      class: 'card signin',
      onsubmit: async (event: Event) => {
        event.preventDefault()
        try {
          me = await api.get<Me>('/api/me', input.value.trim())
          session.signIn(input.value.trim())
          location.hash = me.role === 'regulator' ? '#/incidents' : '#/board'
          void route()
        } catch (error) {
          renderSignIn(error instanceof ApiError && error.status === 401 ? t('badToken') : String(error))
        }
      },
    },
    h('h2', {}, t('signIn')),
    field(t('tokenLabel'), input),
    h('p', { class: 'hint' }, t('tokenHint')),
    problem === undefined ? null : h('p', { class: 'problem', role: 'alert' }, problem),
    h('button', { type: 'submit' }, t('signIn')),
  )
  replace(main, form)
  input.focus()
}

async function route(): Promise<void> {
  leavePage()
  leavePage = () => {}
  document.documentElement.lang = language()
  if (me === null && session.token() !== null) {
    try {
      me = await api.get<Me>('/api/me')
    } catch {
      session.signOut()
    }
  }
  if (me !== null && !namesLoaded) {
    // Rule and site names; without them the console shows ids, so a failure is not fatal.
    await loadNames().then(
      () => {
        namesLoaded = true
      },
      () => undefined,
    )
  }
  renderHeader()
  criticalSignal.refresh()
  if (me === null) return renderSignIn()
  const [, page = '', id = ''] = location.hash.split('/')
  const home = me.role === 'regulator' ? 'incidents' : 'board'
  const target = { main, me }
  switch (page === '' || page === 'signin' ? home : page) {
    case 'board':
      leavePage = renderBoard(target)
      break
    case 'alerts':
      leavePage = renderAlertPage(target, decodeURIComponent(id))
      break
    case 'incidents':
      renderIncidents(target)
      break
    case 'reports':
      renderReports(target)
      break
    case 'sites':
      renderSite(target, decodeURIComponent(id))
      break
    case 'devices':
      if (id === '') renderDevices(target)
      else renderDevicePage(target, decodeURIComponent(id))
      break
    default:
      location.hash = `#/${home}`
  }
  main.focus({ preventScroll: true })
}

window.addEventListener('hashchange', () => void route())
window.addEventListener('siteward:signed-out', () => {
  me = null
  namesLoaded = false
  void route()
})
void route()
