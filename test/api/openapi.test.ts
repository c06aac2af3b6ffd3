import { createConfig, lintFromString } from '@redocly/openapi-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestEngine, type TestEngine } from '../helpers/engine.js'

type Operation = {
  operationId?: string
  requestBody?: unknown
  responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, unknown> }>
}

/** The OpenAPI document as a client generator and Redocly read it. */
describe('the OpenAPI document', () => {
  let t: TestEngine
  let source: string
  let document: { servers?: { url: string }[]; paths: Record<string, Record<string, Operation>> }
  beforeAll(async () => {
    t = await startTestEngine()
    source = await (await fetch(`${t.httpUrl}/openapi.json`)).text()
    document = JSON.parse(source) as typeof document
  })
  afterAll(async () => {
    await t?.stop()
  })
  const operations = () =>
    Object.entries(document.paths).flatMap(([path, byMethod]) =>
      Object.entries(byMethod).map(([method, operation]) => ({
        key: `${method.toUpperCase()} ${path}`,
        operation,
      })),
    )

  it("is clean under Redocly's recommended rules, warnings included", async () => {
    const config = await createConfig({ extends: ['recommended'] })
    const problems = await lintFromString({ source, absoluteRef: 'openapi.json', config })
    expect(
      problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`),
    ).toEqual([])
  })

  it('names every operation once, and says where it is served', () => {
    const ids = operations().map(({ operation }) => operation.operationId)
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id))).toBe(true)
    expect(new Set(ids).size).toBe(ids.length)
    expect(document.servers).toEqual([expect.objectContaining({ url: '/' })])
  })

  it('documents 429 with Retry-After on every route, and 413 wherever a body is taken', () => {
    for (const { key, operation } of operations()) {
      expect(operation.responses['429']?.headers, key).toHaveProperty('Retry-After')
      if (operation.requestBody !== undefined) expect(operation.responses, key).toHaveProperty('413')
    }
  })

  it('gives the media types of the stream, the CSV export and the metrics', () => {
    const contentOf = (path: string) =>
      Object.keys(document.paths[path]?.get?.responses['200']?.content ?? {})
    expect(contentOf('/api/alerts/stream')).toEqual(['text/event-stream'])
    expect(contentOf('/api/incidents.csv')).toEqual(['text/csv; charset=utf-8'])
    expect(contentOf('/metrics')).toEqual(['text/plain; version=0.0.4'])
  })
})
