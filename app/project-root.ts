import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The folder holding package.json. The sources (app/) sit one level below it and the compiled
 * build (dist/app/) two, so files beside the package are found by walking up, not by a fixed
 * number of `..`.
 */
export function projectRoot(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(from)}`)
    dir = parent
  }
  return dir
}
