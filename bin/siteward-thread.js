// A role's thread of `siteward serve`: loads the thread's entry the main thread chose, through
// tsx when it is the TypeScript source (a loader registered in the main thread does not reach
// worker threads), as is when it is the compiled build.
import { workerData } from 'node:worker_threads'

if (workerData.entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api')
  register()
}
await import(workerData.entry)
