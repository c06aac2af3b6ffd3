import { crc32 } from 'node:zlib'

/**
 * One log frame: [u32 payload length][u32 crc32 of payload][payload]. The checksum finds a torn
 * tail after a crash (the last write that never completed); recovery truncates there.
 */
export const frameHeaderBytes = 8
/** Largest frame we accept when reading back: a 64 KiB payload expands well under this. */
export const maxFrameBytes = 8 * 1024 * 1024

/** Encodes a text payload (UTF-8) straight into its frame: one allocation per record. */
export function encodeFrame(text: string): Buffer {
  const length = Buffer.byteLength(text)
  const frame = Buffer.allocUnsafe(frameHeaderBytes + length)
  frame.writeUInt32LE(length, 0)
  frame.write(text, frameHeaderBytes)
  frame.writeUInt32LE(crc32(frame.subarray(frameHeaderBytes)), 4)
  return frame
}

export type FrameScan =
  | { readonly kind: 'frame'; readonly payload: Buffer; readonly frameLength: number }
  | { readonly kind: 'incomplete'; readonly needBytes: number }
  | { readonly kind: 'corrupt'; readonly reason: string }

/** Reads the frame that starts at `offset` of `buffer`, if it is all there and intact. */
export function scanFrame(buffer: Buffer, offset: number): FrameScan {
  if (buffer.length - offset < frameHeaderBytes) return { kind: 'incomplete', needBytes: frameHeaderBytes }
  const length = buffer.readUInt32LE(offset)
  if (length > maxFrameBytes)
    return { kind: 'corrupt', reason: `frame length ${length} exceeds ${maxFrameBytes}` }
  const frameLength = frameHeaderBytes + length
  if (buffer.length - offset < frameLength) return { kind: 'incomplete', needBytes: frameLength }
  const payload = buffer.subarray(offset + frameHeaderBytes, offset + frameLength)
  if (crc32(payload) !== buffer.readUInt32LE(offset + 4))
    return { kind: 'corrupt', reason: 'checksum mismatch' }
  return { kind: 'frame', payload, frameLength }
}
