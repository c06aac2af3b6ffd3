/**
 * CSV for spreadsheet programs (RFC 4180): fields with a comma, quote or line break are quoted and
 * their quotes doubled; rows end with CRLF. Text that a spreadsheet would read as a formula (=, +,
 * -, @, tab or CR first, also their full-width forms ＝＋－＠ that a Chinese input method types,
 * also after leading spaces) gets a leading apostrophe, so a note typed into an alert cannot run
 * as one.
 * Numbers are written as numbers.
 */
export type CsvValue = string | number | boolean | null | undefined

/** UTF-8 byte order mark: without it Excel reads UTF-8 as the local code page and garbles 中文. */
export const utf8Bom = '\uFEFF'

const formulaStart = /^[\t\r]|^[ \u3000]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]/

export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : ''
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  const text = formulaStart.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function csvRow(values: readonly CsvValue[]): string {
  return `${values.map(csvField).join(',')}\r\n`
}
