/**
 * Appends N presence records to the write-ahead log in DIR, one durable append at a time, from a
 * process of its own (a writer the reader cannot hear on its BroadcastChannel).
 * Usage: node --import tsx test/helpers/append-log.ts DIR N SEGMENT_BYTES
 */
import { SegmentLog } from '../../storage/log/segment-log.js'
import { presenceRecord } from './log-records.js'
import { memoryLogger } from './log-sink.js'

const [dir = '', count = '0', segmentBytes = '1048576'] = process.argv.slice(2)
const log = new SegmentLog({
  dir,
  segmentBytes: Number(segmentBytes),
  lingerMs: 0,
  logger: memoryLogger().logger,
})
log.start()
for (let i = 0; i < Number(count); i++) {
  await log.append(presenceRecord(`D${i}`, i))
  if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 1))
}
await log.stop()
