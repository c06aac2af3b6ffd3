import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { connect as connectTcp } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectDevice, startTestEngine, type TestEngine, waitFor } from '../helpers/engine.js'

function httpsGet(
  url: string,
  ca: Buffer,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

describe('TLS for MQTT (mqtts) and the HTTP API (https), from certificate and key files', () => {
  let t: TestEngine
  let dir: string
  let cert: Buffer
  let secret: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'siteward-tls-'))
    // A throwaway self-signed certificate for 127.0.0.1, made by Debian's openssl.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    )
    cert = readFileSync(join(dir, 'cert.pem'))
    t = await startTestEngine({
      env: {
        SITEWARD_TLS_CERT_FILE: join(dir, 'cert.pem'),
        SITEWARD_TLS_KEY_FILE: join(dir, 'key.pem'),
        SITEWARD_MQTTS_PORT: '0',
      },
    })
    secret = await t.addDevice('S1', 'TC-01', 'crane')
  })
  afterAll(async () => {
    await t?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('accepts a device over mqtts that verifies the certificate, with the same login and PUBACK', async () => {
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${t.engine.mqttsPort}`, {
      clientId: 'TC-01',
      username: 'TC-01',
      password: secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
      ca: cert,
    })
    await client.publishAsync(
      'sites/S1/devices/TC-01/telemetry',
      JSON.stringify({ ts: Date.now(), loadT: 1 }),
      {
        qos: 1,
      },
    ) // resolves on the PUBACK
    await client.endAsync()
    const accepted = await waitFor(
      () =>
        (
          t.db.prepare('SELECT accepted_count FROM device_state WHERE device_id = ?').get('TC-01') as
            | { accepted_count: number }
            | undefined
        )?.accepted_count,
      'the reading projected',
    )
    expect(accepted).toBe(1)
    // A wrong secret is refused over TLS as well.
    await expect(
      mqtt.connectAsync(`mqtts://127.0.0.1:${t.engine.mqttsPort}`, {
        clientId: 'TC-01',
        username: 'TC-01',
        password: 'wrong',
        reconnectPeriod: 0,
        ca: cert,
      }),
    ).rejects.toMatchObject({ code: 4 })
  })

  it('drops plaintext MQTT sent to the TLS port, and keeps serving', async () => {
    const socket = connectTcp(t.engine.mqttsPort, '127.0.0.1')
    socket.on('error', () => undefined)
    socket.write(
      Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00]),
    )
    await new Promise((resolve) => socket.once('close', resolve))
    const client = await connectDevice(t.mqttUrl, 'TC-01', secret) // the plain listener still runs
    await client.endAsync()
  })

  it('serves the API over https with HSTS; a client that does not trust the certificate is refused', async () => {
    const url = `https://127.0.0.1:${t.engine.httpPort}/healthz`
    const answer = await httpsGet(url, cert)
    expect(answer.status).toBe(200)
    expect(answer.headers['strict-transport-security']).toBe('max-age=31536000')
    await expect(httpsGet(url, Buffer.from(''))).rejects.toThrow(/self[- ]signed|unable to verify/i)
  })
})
