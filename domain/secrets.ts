import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

/**
 * Device secrets and API tokens are random values made here (192 and 256 bits), never chosen by a
 * person, so a fast SHA-256 is enough to store them: a leaked database cannot be searched for
 * them. A slow hash would buy nothing and cost much: the fuzz harness showed that scrypt checks
 * of guessed secrets fill libuv's thread pool, where the write-ahead log's fsync waits too, and
 * valid devices' PUBACKs stalled for seconds. Stores from before keep `scrypt$` hashes; those are
 * checked one at a time so they can never take more than one thread.
 */

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
  return `sha256$${createHash('sha256').update(secret).digest('base64url')}`
}

/** Constant-time check of a secret against its stored hash. */
export function verifySecret(secret: string, stored: string): Promise<boolean> {
  if (stored.startsWith('sha256$')) {
    const expected = Buffer.from(stored.slice('sha256$'.length), 'base64url')
    const actual = createHash('sha256').update(secret).digest()
    return Promise.resolve(expected.length === actual.length && timingSafeEqual(actual, expected))
  }
  const checked = legacyQueue.then(() => verifyScrypt(secret, stored))
  legacyQueue = checked.then(
    () => undefined,
    () => undefined,
  )
  return checked
}

let legacyQueue: Promise<void> = Promise.resolve()

function verifyScrypt(secret: string, stored: string): Promise<boolean> {
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
