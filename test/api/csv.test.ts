import { describe, expect, it } from 'vitest'
import { csvField, csvRow } from '../../api/csv.js'

describe('CSV fields a spreadsheet cannot run', () => {
  it.each([
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+1', "'+1"],
    ['-1+2', "'-1+2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['＝1+1', "'＝1+1"],
    ['＋1', "'＋1"],
    ['－1', "'－1"],
    ['＠A1', "'＠A1"],
    ['  =1+1', "'  =1+1"],
    ['\u3000＝1', "'\u3000＝1"],
  ])('neutralises %j', (value, expected) => {
    expect(csvField(value)).toBe(expected)
  })

  it('leaves ordinary text and numbers alone, and quotes what needs quoting', () => {
    expect(csvField('塔吊 TC-01 力矩超限')).toBe('塔吊 TC-01 力矩超限')
    expect(csvField(-3.5)).toBe('-3.5')
    expect(csvField('a,b')).toBe('"a,b"')
    expect(csvRow(['x', null, 2])).toBe('x,,2\r\n')
  })
})
