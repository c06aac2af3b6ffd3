import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '../../domain/alert.js'
import type { Principal } from '../../domain/registry.js'
import type { Severity } from '../../domain/rules.js'
import { AlertRepository } from '../../storage/sqlite/alert-repository.js'
import { connectDevice, startTestEngine, type TestEngine, waitFor } from '../helpers/engine.js'
import { apiClient } from '../helpers/http.js'

const minute = 60_000
const hour = 60 * minute
/** Raise times are engine times, set by hand: 2026-11-20 00:00 UTC is 08:00 in China. */
const T0 = Date.parse('2026-11-20T00:00:00Z')

/** A small RFC 4180 reader, to read the export back as a spreadsheet would. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(field)
      field = ''
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field)
      rows.push(row)
      row = []
      field = ''
      i++
    } else field += c
  }
  return rows
}

describe('incidents, CSV export and the summary report (CONTRACT §5.1, DOMAIN.md §3)', () => {
  let t: TestEngine
  const api = apiClient(() => t.httpUrl)
  const tokens: Record<string, string> = {}
  const ids: Record<string, string> = {}

  beforeAll(async () => {
    t = await startTestEngine()
    await t.provisioning.addSite({ id: 'S1', name: '深基坑一号', region: '330106' })
    await t.provisioning.addSite({ id: 'S2', name: 'Second, "north"', region: '330106' })
    await t.provisioning.addSite({ id: 'S3', name: 'Shenzhen', region: '440300' })
    await t.provisioning.addDevice({ siteId: 'S1', id: 'TC-01', kind: 'crane' })
    await t.provisioning.addDevice({ siteId: 'S2', id: 'PIT-02', kind: 'pit' })
    await t.provisioning.addDevice({ siteId: 'S3', id: 'TC-03', kind: 'crane' })
    tokens.regulatorA = await t.token('regulator', { region: '330106' })
    tokens.regulatorB = await t.token('regulator', { region: '440300' })
    tokens.admin = await t.token('admin')
    tokens.officerS2 = await t.token('officer', { sites: ['S2'] })

    // A known history, written through the alert store with chosen times.
    const store = new AlertRepository(t.db)
    const person: Principal = { tokenId: 't', name: '王工', role: 'supervisor', sites: [], region: null }
    const raise = async (
      site: string,
      device: string,
      rule: string,
      subject: string,
      severity: Severity,
      at: number,
      retrospective = false,
    ) => {
      const change = await store.applySignal(
        {
          siteId: site,
          deviceId: device,
          ruleId: rule,
          subject,
          origin: 'test',
          retrospective,
          signal: { type: 'raise', severity, value: 1, threshold: 1, ts: at },
        },
        at,
      )
      if (change === null) throw new Error('the raise changed nothing')
      return change.alert.id
    }
    const clear = async (site: string, device: string, rule: string, subject: string, at: number) =>
      store.applySignal(
        {
          siteId: site,
          deviceId: device,
          ruleId: rule,
          subject,
          origin: 'test',
          retrospective: false,
          signal: { type: 'clear', value: 0, ts: at },
        },
        at,
      )
    const ack = async (id: string, at: number, note: string | null = null) =>
      store.transition(id, { action: 'acknowledge', note }, person, undefined, at)
    const resolve = async (id: string, at: number, resolution: string) =>
      store.transition(id, { action: 'resolve', note: null, resolution }, person, undefined, at)
    const close = async (id: string, at: number) =>
      store.transition(id, { action: 'close', note: null }, person, undefined, at)

    // S1: A1 closed in 30 min; A2 the same key again, acknowledged late and never resolved; A3 never acknowledged.
    ids.A1 = await raise('S1', 'TC-01', 'crane.load', 'loadPct', 'critical', T0)
    await ack(ids.A1, T0 + 2 * minute, '已处理, 见 "记录"\n第二行')
    await resolve(ids.A1, T0 + 10 * minute, '=HYPERLINK("http://x")')
    await clear('S1', 'TC-01', 'crane.load', 'loadPct', T0 + 12 * minute)
    await close(ids.A1, T0 + 30 * minute)
    ids.A2 = await raise('S1', 'TC-01', 'crane.load', 'loadPct', 'critical', T0 + hour)
    await store.escalate(ids.A2, 0, 'not acknowledged in time', T0 + hour + 5 * minute)
    await ack(ids.A2, T0 + hour + 6 * minute)
    ids.A3 = await raise('S1', 'TC-01', 'crane.wind_work', 'windMps', 'alarm', T0 + 2 * hour, true)
    for (let level = 0; level < 3; level++)
      await store.escalate(ids.A3, level, 'not acknowledged in time', T0 + 3 * hour)
    // S2: B1 closed in 20 min.
    ids.B1 = await raise('S2', 'PIT-02', 'pit.danger_report', 'DANGER_REPORT', 'critical', T0 + 3 * hour)
    await ack(ids.B1, T0 + 3 * hour + minute)
    await resolve(ids.B1, T0 + 3 * hour + 5 * minute, 'evacuated, shored')
    await clear('S2', 'PIT-02', 'pit.danger_report', 'DANGER_REPORT', T0 + 3 * hour + 6 * minute)
    await close(ids.B1, T0 + 3 * hour + 20 * minute)
    // S3 (another region): C1 on the next day in China time (17:00 UTC = 01:00 CST).
    ids.C1 = await raise('S3', 'TC-03', 'crane.load', 'loadPct', 'warning', T0 + 17 * hour)
  })
  afterAll(async () => {
    await t?.stop()
  })

  const period = `from=${new Date(T0 - 86_400_000).toISOString()}&to=${new Date(T0 + 2 * 86_400_000).toISOString()}`
  const incidentIds = async (token: string, query: string) =>
    ((await api('GET', `/api/incidents?${query}`, token)).body.items as Alert[]).map((a) => a.id).sort()

  it('lists every state across the scope, with filters, newest first, and pages with a cursor', async () => {
    expect(await incidentIds(tokens.regulatorA as string, '')).toEqual(
      [ids.A1, ids.A2, ids.A3, ids.B1].sort(),
    )
    expect(await incidentIds(tokens.admin as string, '')).toHaveLength(5)
    expect(await incidentIds(tokens.admin as string, 'region=440300')).toEqual([ids.C1])
    expect(await incidentIds(tokens.admin as string, 'retrospective=true')).toEqual([ids.A3])
    expect(await incidentIds(tokens.admin as string, 'escalated=true')).toEqual([ids.A2, ids.A3].sort())
    expect(await incidentIds(tokens.admin as string, 'state=closed')).toEqual([ids.A1, ids.B1].sort())
    expect(await incidentIds(tokens.admin as string, 'condition=cleared')).toEqual([ids.A1, ids.B1].sort())
    expect(await incidentIds(tokens.admin as string, 'severity=critical&siteId=S1')).toEqual(
      [ids.A1, ids.A2].sort(),
    )
    const window = `from=${new Date(T0 + hour).toISOString()}&to=${new Date(T0 + 3 * hour).toISOString()}`
    expect(await incidentIds(tokens.admin as string, window)).toEqual([ids.A2, ids.A3].sort())
    const first = await api('GET', '/api/incidents?limit=2', tokens.admin as string)
    expect((first.body.items as Alert[]).map((a) => a.id)).toEqual([ids.C1, ids.B1])
    const second = await api(
      'GET',
      `/api/incidents?limit=2&cursor=${first.body.nextCursor}`,
      tokens.admin as string,
    )
    expect((second.body.items as Alert[]).map((a) => a.id)).toEqual([ids.A3, ids.A2])
    expect((await api('GET', '/api/incidents?colour=red', tokens.admin as string)).status).toBe(400)
  })

  it('exports the same query as CSV: BOM, header, one row per alert, quotes, commas, newlines and formulas safe', async () => {
    const response = await fetch(`${t.httpUrl}/api/incidents.csv`, {
      headers: { authorization: `Bearer ${tokens.regulatorA}` },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/)
    expect(response.headers.get('content-disposition')).toMatch(/attachment; filename="siteward-incidents-/)
    const bytes = Buffer.from(await response.arrayBuffer())
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
    const rows = parseCsv(bytes.subarray(3).toString('utf8'))
    const [header, ...data] = rows as [string[], ...string[][]]
    expect(header.slice(0, 5)).toEqual(['id', 'region', 'site_id', 'site_name', 'device_id'])
    expect(data.map((row) => row[0]).sort()).toEqual([ids.A1, ids.A2, ids.A3, ids.B1].sort())
    const column = (row: string[], name: string) => row[header.indexOf(name)]
    const a1 = data.find((row) => row[0] === ids.A1) as string[]
    expect(column(a1, 'site_name')).toBe('深基坑一号')
    expect(column(a1, 'acknowledged_note')).toBe('已处理, 见 "记录"\n第二行')
    expect(column(a1, 'resolved_action')).toBe(`'=HYPERLINK("http://x")`) // never a live formula
    expect(column(a1, 'state')).toBe('closed')
    const b1 = data.find((row) => row[0] === ids.B1) as string[]
    expect(column(b1, 'site_name')).toBe('Second, "north"')
    expect(column(b1, 'region')).toBe('330106')
    // Filters apply to the export as to the list.
    const filtered = await fetch(`${t.httpUrl}/api/incidents.csv?siteId=S2`, {
      headers: { authorization: `Bearer ${tokens.admin}` },
    })
    expect(
      parseCsv((await filtered.text()).slice(1))
        .slice(1)
        .map((row) => row[0]),
    ).toEqual([ids.B1])
  })

  it('computes every summary figure per site as worked out by hand', async () => {
    const { status, body } = await api(
      'GET',
      `/api/reports/summary?${period}&groupBy=site`,
      tokens.regulatorA as string,
    )
    expect(status).toBe(200)
    const groups = body.groups as Record<string, unknown>[]
    expect(groups.map((g) => g.key)).toEqual(['S1', 'S2'])
    expect(groups[0]).toMatchObject({
      key: 'S1',
      raised: 3,
      acknowledged: 2, // A1, A2
      resolved: 1,
      closed: 1,
      open: 2, // A2, A3
      overdue: 2, // A2 past its resolve deadline, A3 past its acknowledge deadline
      escalated: 2,
      retrospective: 1,
      acknowledgeRate: 2 / 3,
      closeRate: 1 / 3,
      // Nearest rank over [2 min, 6 min]: p50 is the 1st, p90 the 2nd.
      timeToAcknowledge: { n: 2, p50Ms: 2 * minute, p90Ms: 6 * minute },
      timeToClose: { n: 1, p50Ms: 30 * minute, p90Ms: 30 * minute },
      repeats: 1, // A2 on A1's key
    })
    expect(groups[1]).toMatchObject({
      key: 'S2',
      raised: 1,
      acknowledged: 1,
      resolved: 1,
      closed: 1,
      open: 0,
      overdue: 0,
      escalated: 0,
      acknowledgeRate: 1,
      closeRate: 1,
      timeToAcknowledge: { n: 1, p50Ms: minute, p90Ms: minute },
      timeToClose: { n: 1, p50Ms: 20 * minute, p90Ms: 20 * minute },
      repeats: 0,
    })
  })

  it('drills every figure down to the incidents behind it', async () => {
    const { body } = await api(
      'GET',
      `/api/reports/summary?${period}&groupBy=site`,
      tokens.regulatorA as string,
    )
    const s1 = (body.groups as { key: string; drillDown: Record<string, Record<string, string>> }[])[0]
    const drill = (figure: string) =>
      incidentIds(tokens.regulatorA as string, new URLSearchParams(s1?.drillDown[figure]).toString())
    expect(await drill('raised')).toEqual([ids.A1, ids.A2, ids.A3].sort())
    expect(await drill('acknowledged')).toEqual([ids.A1, ids.A2].sort())
    expect(await drill('resolved')).toEqual([ids.A1])
    expect(await drill('closed')).toEqual([ids.A1])
    expect(await drill('open')).toEqual([ids.A2, ids.A3].sort())
    expect(await drill('overdue')).toEqual([ids.A2, ids.A3].sort())
    expect(await drill('escalated')).toEqual([ids.A2, ids.A3].sort())
    expect(await drill('retrospective')).toEqual([ids.A3])
  })

  it('groups by severity, rule, device and by day in China time', async () => {
    const by = async (groupBy: string) =>
      Object.fromEntries(
        (
          (await api('GET', `/api/reports/summary?${period}&groupBy=${groupBy}`, tokens.admin as string)).body
            .groups as { key: string; raised: number }[]
        ).map((g) => [g.key, g.raised]),
      )
    expect(await by('severity')).toEqual({ alarm: 1, critical: 3, warning: 1 })
    expect(await by('rule')).toEqual({ 'crane.load': 3, 'crane.wind_work': 1, 'pit.danger_report': 1 })
    expect(await by('device')).toEqual({ 'PIT-02': 1, 'TC-01': 3, 'TC-03': 1 })
    expect(await by('day')).toEqual({ '2026-11-20': 4, '2026-11-21': 1 })
    const utc = (
      await api(
        'GET',
        `/api/reports/summary?${period}&groupBy=day&utcOffsetMinutes=0`,
        tokens.admin as string,
      )
    ).body
    expect((utc.groups as { key: string }[]).map((g) => g.key)).toEqual(['2026-11-20'])
  })

  it('keeps a regulator to its region on every route, CSV and report included', async () => {
    const b = tokens.regulatorB as string
    expect(await incidentIds(b, '')).toEqual([ids.C1])
    expect(await incidentIds(b, 'region=330106')).toEqual([])
    expect(await incidentIds(b, 'siteId=S1')).toEqual([])
    const csv = await (
      await fetch(`${t.httpUrl}/api/incidents.csv?siteId=S1`, { headers: { authorization: `Bearer ${b}` } })
    ).text()
    expect(parseCsv(csv.slice(1))).toHaveLength(1) // the header only
    const all = await (
      await fetch(`${t.httpUrl}/api/incidents.csv`, { headers: { authorization: `Bearer ${b}` } })
    ).text()
    expect(all).not.toContain('S1')
    const report = (await api('GET', `/api/reports/summary?${period}&groupBy=site`, b)).body
    expect((report.groups as { key: string }[]).map((g) => g.key)).toEqual(['S3'])
    // An officer sees its own sites only.
    expect(await incidentIds(tokens.officerS2 as string, '')).toEqual([ids.B1])
  })

  it('reports monitoring per site: devices online, readings received against expected, also for a silent site', async () => {
    await t.provisioning.addSite({ id: 'S5', name: 'Quiet', region: '510104' })
    await t.provisioning.addSite({ id: 'S6', name: 'Silent', region: '510104' })
    const secret = (await t.provisioning.addDevice({ siteId: 'S5', id: 'TC-05', kind: 'crane' })).secret
    await t.provisioning.addDevice({ siteId: 'S6', id: 'PIT-06', kind: 'pit' })
    const hourStart = Math.floor(Date.now() / hour) * hour - 3 * hour
    // One hour of readings every 30 s (120), in a two-hour period: half of what a crane promises.
    const readings = Array.from({ length: 120 }, (_, i) => ({ ts: hourStart + i * 30_000, loadT: 1 }))
    const crane = await connectDevice(t.mqttUrl, 'TC-05', secret)
    await crane.publishAsync('sites/S5/devices/TC-05/telemetry', JSON.stringify(readings), { qos: 1 })
    const query = `from=${new Date(hourStart).toISOString()}&to=${new Date(hourStart + 2 * hour).toISOString()}&region=510104`
    const groups = await waitFor(async () => {
      const { body } = await api('GET', `/api/reports/summary?${query}&groupBy=site`, tokens.admin as string)
      const found = body.groups as {
        key: string
        raised: number
        monitoring: Record<string, number | null>
      }[]
      return found?.[0]?.monitoring.readingsReceived === 120 && found
    }, 'the readings counted')
    expect(groups.map((g) => [g.key, g.raised])).toEqual([
      ['S5', 0],
      ['S6', 0],
    ])
    expect(groups[0]?.monitoring).toEqual({
      devices: 1,
      onlineNow: 1,
      onlineRatio: 1,
      readingsReceived: 120,
      readingsExpected: 240, // 2 h ÷ 30 s
      completeness: 0.5,
    })
    // PIT-06 was registered after the period: nothing was expected of it then.
    expect(groups[1]?.monitoring).toEqual({
      devices: 1,
      onlineNow: 0,
      onlineRatio: 0,
      readingsReceived: 0,
      readingsExpected: 0,
      completeness: null,
    })
    await crane.endAsync()
  })

  it('refuses a report period that is reversed or longer than a year', async () => {
    const reversed = await api(
      'GET',
      `/api/reports/summary?from=${new Date(T0).toISOString()}&to=${new Date(T0 - 1).toISOString()}`,
      tokens.admin as string,
    )
    expect(reversed.status).toBe(400)
    expect((await api('GET', '/api/reports/summary?groupBy=site', tokens.admin as string)).status).toBe(400)
  })
})
