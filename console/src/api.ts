// The console's HTTP client: the token from session storage on every request, errors as
// exceptions carrying the API's code and message.
const tokenKey = 'siteward.token'

export const session = {
  token: (): string | null => sessionStorage.getItem(tokenKey),
  signIn: (token: string) => sessionStorage.setItem(tokenKey, token),
  signOut: () => sessionStorage.removeItem(tokenKey),
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

async function request(
  method: string,
  path: string,
  body?: unknown,
  token = session.token(),
): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${token ?? ''}` }
  if (body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  // A token revoked (or expired) while the console is open: back to the sign-in page.
  if (response.status === 401 && token !== null && token === session.token()) {
    session.signOut()
    window.dispatchEvent(new Event('siteward:signed-out'))
  }
  if (!response.ok) {
    const error = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } }
    throw new ApiError(
      response.status,
      error.error?.code ?? 'HTTP_ERROR',
      error.error?.message ?? response.statusText,
    )
  }
  return response
}

export const api = {
  get: async <T>(path: string, token?: string): Promise<T> =>
    (await request('GET', path, undefined, token)).json() as Promise<T>,
  post: async <T>(path: string, body: unknown): Promise<T> =>
    (await request('POST', path, body)).json() as Promise<T>,
  /** A CSV (or other file) fetched with the token and handed to the browser as a download. */
  download: async (path: string, filename: string): Promise<void> => {
    const blob = await (await request('GET', path)).blob()
    const url = URL.createObjectURL(blob)
    const link = Object.assign(document.createElement('a'), { href: url, download: filename })
    document.body.append(link)
    link.click()
    link.remove()
    setTimeout(() => URL.revokeObjectURL(url), 10_000)
  },
}

export interface Me {
  name: string
  role: 'officer' | 'supervisor' | 'regulator' | 'admin'
  sites: string[]
  region: string | null
  escalation: {
    acknowledgeWithinMs: Record<string, number>
    resolveWithinMs: Record<string, number>
    maxLevel: number
  }
}

export interface Step {
  by: string
  at: string
  note: string | null
}

export interface Alert {
  id: string
  siteId: string
  deviceId: string
  ruleId: string
  subject: string
  severity: 'warning' | 'alarm' | 'critical'
  state: 'open' | 'acknowledged' | 'resolved' | 'closed'
  condition: 'active' | 'cleared'
  value: number | null
  peakValue: number | null
  threshold: number | null
  count: number
  firstAt: string
  lastAt: string
  clearedAt: string | null
  escalationLevel: number
  retrospective: boolean
  raisedAt: string
  version: number
  acknowledged: Step | null
  resolved: (Step & { action: string }) | null
  closed: Step | null
}

export interface AlertEvent {
  seq: number
  alertId: string
  type: string
  actor: string
  at: string
  data: Record<string, unknown>
}

/**
 * The alert stream (Server-Sent Events) read with fetch, so the token travels in a header and
 * not in the URL. Reconnects with Last-Event-ID after a drop; `onState` reports live / lost.
 */
export function streamAlerts(
  onChange: (change: { event: AlertEvent; alert: Alert }) => void,
  onState: (live: boolean) => void,
): () => void {
  const controller = new AbortController()
  let lastId: number | null = null
  const connect = async () => {
    while (!controller.signal.aborted) {
      try {
        const headers: Record<string, string> = { authorization: `Bearer ${session.token() ?? ''}` }
        if (lastId !== null) headers['last-event-id'] = String(lastId)
        const response = await fetch('/api/alerts/stream', { headers, signal: controller.signal })
        if (!response.ok || response.body === null) throw new Error(`stream answered ${response.status}`)
        onState(true)
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
        let buffer = ''
        for (;;) {
          const { value, done } = await reader.read()
          if (done) break
          buffer += value
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            const id = /^id: (\d+)$/m.exec(block)?.[1]
            const data = /^data: (.*)$/m.exec(block)?.[1]
            if (id === undefined || data === undefined) continue
            lastId = Number(id)
            onChange(JSON.parse(data) as { event: AlertEvent; alert: Alert })
          }
        }
      } catch {
        // dropped or refused: report and retry below
      }
      if (controller.signal.aborted) return
      onState(false)
      await new Promise((resolve) => setTimeout(resolve, 2_000))
    }
  }
  void connect()
  return () => controller.abort()
}
