import { randomBytes, scryptSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { generateSecret, hashSecret, verifySecret } from '../../domain/secrets.js'

describe('device secrets', () => {
  it('stores a SHA-256 of the generated secret and checks it', async () => {
    const secret = generateSecret()
    const stored = hashSecret(secret)
    expect(stored).toMatch(/^sha256\$[\w-]{43}$/)
    expect(stored).not.toContain(secret)
    expect(await verifySecret(secret, stored)).toBe(true)
    expect(await verifySecret(`${secret}x`, stored)).toBe(false)
    expect(await verifySecret(secret, 'sha256$short')).toBe(false)
  })

  it('still checks scrypt hashes written by earlier versions, one at a time', async () => {
    const secret = generateSecret()
    const salt = randomBytes(16)
    const hash = scryptSync(secret, salt, 32, { N: 1024, r: 8, p: 1 })
    const stored = ['scrypt', 1024, 8, 1, salt.toString('base64url'), hash.toString('base64url')].join('$')
    const results = await Promise.all([
      verifySecret(secret, stored),
      verifySecret('wrong', stored),
      verifySecret(secret, stored),
    ])
    expect(results).toEqual([true, false, true])
    expect(await verifySecret(secret, 'md5$whatever')).toBe(false)
  })
})
