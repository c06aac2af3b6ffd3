import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto'

/**
 * Device secrets are stored as salted scrypt hashes (slow on purpose: a leaked database must not
 * yield working secrets). API tokens are 256-bit random values, so a fast SHA-256 suffices to
 * store them and lets a token be looked up by its hash.
 */
const scryptParams = { N: 16_384, r: 8, p: 1, keyLength: 32, saltBytes: 16 } as const

export function generateSecret(): string {
  return randomBytes(24).toString('base64url')
}

export function generateToken(): string {
  return `swt_${randomBytes(32).toString('base64url')}`
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export function hashSecret(secret: string): string {
  const salt = randomBytes(scryptParams.saltBytes)
  const { N, r, p, keyLength } = scryptParams
  const hash = scryptSync(secret, salt, keyLength, { N, r, p })
  return ['scrypt', N, r, p, salt.toString('base64url'), hash.toString('base64url')].join('$')
}

/** Constant-time check of a secret against its stored hash, off the event loop. */
export function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || salt === undefined || hash === undefined) return Promise.resolve(false)
  const expected = Buffer.from(hash, 'base64url')
  return new Promise((resolve) => {
    scrypt(
      secret,
      Buffer.from(salt, 'base64url'),
      expected.length,
      { N: Number(n), r: Number(r), p: Number(p) },
      (error, derived) =>
        resolve(error === null && derived.length === expected.length && timingSafeEqual(derived, expected)),
    )
  })
}
