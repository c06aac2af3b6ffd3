import { afterEach, describe, expect, it, vi } from 'vitest'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { startTestEngine } from '../helpers/engine.js'

/**
 * A role that can no longer do its work stops the engine (issue 14): an engine that acknowledges
 * readings its rules never evaluate would be the worst kind of silent failure.
 */
describe('a role that fails stops the engine (issue 14)', () => {
  afterEach(() => vi.restoreAllMocks())

  it('does not start when the rule pipeline cannot: its error, not a half-alive engine', async () => {
    // The rules read which devices to watch for silence as their pipeline starts; a store that
    // fails there ends the pipeline with an error.
    const heardDevices = RegistryRepository.prototype.heardDevices
    vi.spyOn(RegistryRepository.prototype, 'heardDevices').mockImplementation(function (
      this: RegistryRepository,
    ) {
      if (new Error().stack?.includes('watchFromStart') === true)
        throw new Error('disk I/O error (simulated)')
      return heardDevices.call(this)
    })
    await expect(startTestEngine()).rejects.toThrow('disk I/O error (simulated)')
  })
})
