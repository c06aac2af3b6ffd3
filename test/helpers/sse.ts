/** One `event: alert` message of the SSE stream, with when it arrived. */
export interface StreamMessage<T = unknown> {
  readonly id: number
  readonly data: T
  readonly arrivedAt: number
}

/**
 * A real Server-Sent Events client over fetch: collects every message with an id and data.
 * `opened` resolves once the answer's headers are in: the server subscribes the stream before it
 * sends them, so nothing committed after that is missed (or once the request failed).
 */
export function openStream<T>(url: string, token: string, lastEventId?: number) {
  const messages: StreamMessage<T>[] = []
  const controller = new AbortController()
  const headers: Record<string, string> = { authorization: `Bearer ${token}` }
  if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId)
  let markOpened: () => void = () => {}
  const opened = new Promise<void>((resolve) => {
    markOpened = resolve
  })
  const done = fetch(url, { headers, signal: controller.signal })
    .then(async (response) => {
      markOpened()
      const reader = response.body?.getReader()
      const decoder = new TextDecoder()
      let buffer = ''
      for (;;) {
        const chunk = await reader?.read()
        if (chunk === undefined || chunk.done) break
        buffer += decoder.decode(chunk.value, { stream: true })
        let end = buffer.indexOf('\n\n')
        while (end >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const id = /^id: (\d+)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (id !== undefined && data !== undefined)
            messages.push({ id: Number(id), data: JSON.parse(data) as T, arrivedAt: performance.now() })
          end = buffer.indexOf('\n\n')
        }
      }
    })
    .catch(() => undefined)
    .finally(() => markOpened())
  return { messages, close: () => controller.abort(), done, opened }
}
