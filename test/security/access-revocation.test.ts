import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { connackCode, connectDevice, startTestEngine, type TestEngine } from '../helpers/engine.js'
import { apiClient } from '../helpers/http.js'
import { openStream } from '../helpers/sse.js'

/** What an admin does about a leaked token or a stolen device secret (issue 13). */
describe('revoking tokens, disabling and re-keying devices, effective at once', () => {
  let t: TestEngine
  let admin: string
  const api = apiClient(() => t.httpUrl)
  const within = <T>(promise: Promise<T>, ms: number) =>
    Promise.race([
      promise.then(() => 'ended'),
      new Promise((resolve) => setTimeout(resolve, ms, 'still open')),
    ])
  beforeAll(async () => {
    t = await startTestEngine({ env: { SITEWARD_HTTP_RATE_LIMIT: '100000' } })
    await t.addDevice('S1', 'TC-00', 'crane')
    admin = await t.token('admin')
  })
  afterAll(async () => {
    await t?.stop()
  })

  it('lists tokens without the tokens themselves, and a revoked one ends its alert stream and gets 401', async () => {
    const issued = await api('POST', '/api/tokens', admin, { role: 'officer', name: '王工', sites: ['S1'] })
    const officer = issued.body.token as string
    const stream = openStream(`${t.httpUrl}/api/alerts/stream`, officer)
    expect((await api('GET', '/api/sites', officer)).status).toBe(200)

    const listed = await api('GET', '/api/tokens', admin)
    const mine = (listed.body.items as { id: string; name: string; revokedAt: string | null }[]).find(
      (token) => token.id === issued.body.id,
    )
    expect(mine).toMatchObject({ name: '王工', role: 'officer', sites: ['S1'], revokedAt: null })
    expect(JSON.stringify(listed.body)).not.toContain(officer)
    expect((await api('GET', '/api/tokens', officer)).status).toBe(403)

    const revoked = await api('POST', `/api/tokens/${issued.body.id as string}/revoke`, admin)
    expect(revoked.body.revokedAt).toEqual(expect.any(String))
    expect(await within(stream.done, 2_500)).toBe('ended')
    expect((await api('GET', '/api/sites', officer)).status).toBe(401)
    expect((await api('POST', '/api/tokens/nope/revoke', admin)).status).toBe(404)
  })

  it('ends the stream of a token revoked by the CLI (another connection to the store)', async () => {
    const issued = await t.provisioning.createToken({
      role: 'regulator',
      name: 'city',
      sites: [],
      region: null,
    })
    const stream = openStream(`${t.httpUrl}/api/alerts/stream`, issued.token)
    await new Promise((resolve) => setTimeout(resolve, 200))
    await new RegistryRepository(t.db).revokeToken(issued.id)
    expect(await within(stream.done, 2_500)).toBe('ended')
  })

  it('disables a device: its connection closes, its logins are refused until enabled', async () => {
    const secret = await t.addDevice('S1', 'TC-01', 'crane')
    const crane = await connectDevice(t.mqttUrl, 'TC-01', secret)
    const closed = new Promise<void>((resolve) => crane.once('close', () => resolve()))
    const disabled = await api('POST', '/api/devices/TC-01/disable', admin)
    expect(disabled.body).toMatchObject({ id: 'TC-01', disabledAt: expect.any(String) })
    expect(await within(closed, 2_000)).toBe('ended')
    const login = { clientId: 'TC-01', username: 'TC-01', password: secret }
    expect(await connackCode(t.mqttUrl, login)).toBe(5)
    expect((await api('POST', '/api/devices/TC-01/enable', admin)).body).toMatchObject({ disabledAt: null })
    expect(await connackCode(t.mqttUrl, login)).toBe(0)
    await crane.endAsync(true)
  })

  it('gives a device a new secret: the old one is refused and its connection closes', async () => {
    const secret = await t.addDevice('S1', 'TC-02', 'crane')
    const crane = await connectDevice(t.mqttUrl, 'TC-02', secret)
    const closed = new Promise<void>((resolve) => crane.once('close', () => resolve()))
    const rotated = await api('POST', '/api/devices/TC-02/secret', admin)
    const fresh = rotated.body.secret as string
    expect(fresh).not.toBe(secret)
    expect(await within(closed, 2_000)).toBe('ended')
    expect(await connackCode(t.mqttUrl, { clientId: 'TC-02', username: 'TC-02', password: secret })).toBe(4)
    expect(await connackCode(t.mqttUrl, { clientId: 'TC-02', username: 'TC-02', password: fresh })).toBe(0)
    await crane.endAsync(true)
  })

  it('closes a device disabled by the CLI within seconds', async () => {
    const secret = await t.addDevice('S1', 'TC-03', 'crane')
    const crane = await connectDevice(t.mqttUrl, 'TC-03', secret)
    const closed = new Promise<void>((resolve) => crane.once('close', () => resolve()))
    await t.provisioning.setDeviceEnabled('TC-03', false)
    expect(await within(closed, 4_000)).toBe('ended')
    await crane.endAsync(true)
  })
})
