// Charts: telemetry lines with uPlot (about 50 KB, bundled); bars as plain HTML, which screen
// readers read as the numbers they are.
import uPlot from 'uplot'
import { h } from './dom.js'
import { language } from './i18n.js'

export interface Series {
  readonly label: string
  readonly values: (number | null)[]
  readonly color: string
  readonly dashed?: boolean
  /** Marks only, no line (readings typed by hand among a device's). */
  readonly pointsOnly?: boolean
}

const width = (container: HTMLElement) => Math.max(320, Math.min(1100, container.clientWidth || 720))

/**
 * Time-axis labels in the reader's language and 24-hour China time: "14:05", with the date when
 * the span passes a day ("12/1 14:05", "12月1日 14:05"). uPlot's own format is 12-hour English.
 */
function timeLabels(_chart: uPlot | null, splits: number[]): string[] {
  const span = (splits.at(-1) ?? 0) - (splits[0] ?? 0)
  const format = new Intl.DateTimeFormat(language(), {
    timeZone: 'Asia/Shanghai',
    hour12: false,
    hour: '2-digit',
    minute: '2-digit',
    ...(span >= 86_400 ? { month: 'numeric', day: 'numeric' } : {}),
  })
  return splits.map((seconds) => format.format(new Date(seconds * 1000)))
}

/** x in seconds since the epoch; shown in China time. */
export function lineChart(container: HTMLElement, title: string, x: number[], series: Series[]): void {
  // The picture's name says what it shows and when, in the labels' own format.
  const span = x.length === 0 ? [] : timeLabels(null, [Math.min(...x), Math.max(...x)])
  const host = h('div', { class: 'chart', role: 'img', 'aria-label': `${title}, ${span.join('–')}` })
  container.append(host)
  new uPlot(
    {
      title,
      width: width(container),
      height: 260,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Asia/Shanghai'),
      scales: { x: { auto: false, range: timeRange(x) } },
      // Labels at least 110 px apart: a date and time never run into the next one.
      axes: [{ values: timeLabels, space: 110 }, {}],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          points: { show: s.dashed !== true, size: s.pointsOnly === true ? 10 : 6 },
          ...(s.dashed === true ? { dash: [6, 4] } : {}),
          ...(s.pointsOnly === true ? { paths: () => null } : {}),
        })),
      ],
    },
    [x, ...series.map((s) => s.values)] as uPlot.AlignedData,
    host,
  )
}

/** The data's span, at least ten minutes around its middle (a lone point would span nothing). */
function timeRange(x: number[]): [number, number] {
  const lo = Math.min(...x)
  const hi = Math.max(...x)
  const middle = (lo + hi) / 2
  return hi - lo >= 600 ? [lo, hi] : [middle - 300, middle + 300]
}

/** Grouped horizontal bars: one row per label, one bar per series, the count written beside it. */
export function barChart(container: HTMLElement, title: string, labels: string[], series: Series[]): void {
  const max = Math.max(1, ...series.flatMap((s) => s.values.map((v) => v ?? 0)))
  container.append(
    h(
      'figure',
      { class: 'bars' },
      h('figcaption', {}, title),
      h(
        'div',
        { class: 'legend' },
        series.map((s) => h('span', {}, h('i', { style: `background:${s.color}` }), s.label)),
      ),
      labels.map((label, row) =>
        h(
          'div',
          { class: 'bar-row' },
          h('span', { class: 'bar-label' }, label),
          h(
            'div',
            { class: 'bar-group' },
            series.map((s) => {
              const value = s.values[row] ?? 0
              return h(
                'div',
                { class: 'bar-line', title: `${s.label}: ${value}` },
                h('span', {
                  class: 'bar',
                  style: `width:${(value / max) * 100}%;background:${s.color}`,
                }),
                h('span', { class: 'bar-value' }, `${s.label} ${value}`),
              )
            }),
          ),
        ),
      ),
    ),
  )
}
