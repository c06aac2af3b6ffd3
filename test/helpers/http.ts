export interface ApiResponse {
  readonly status: number
  readonly body: Record<string, unknown> & { error?: { code: string; message: string } }
}

/** A JSON client for the engine's HTTP API over a real socket; `base` is read at each call. */
export function apiClient(base: () => string) {
  return async (
    method: string,
    path: string,
    token?: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> => {
    const response = await fetch(`${base()}${path}`, {
      method,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: response.status, body: (await response.json()) as ApiResponse['body'] }
  }
}
