/**
 * Malformed messages of the kinds real devices send, for the `bad-payloads` scenario: each must
 * end up as a dead letter with its reason, never as a crash or a silent drop.
 */
export function badPayload(index: number, ts: number): string {
  const kinds = [
    () => '{"ts": 1700000000000, "loadT": ', // truncated JSON
    () => JSON.stringify({ ts, loadT: 'heavy' }), // a number as text
    () => JSON.stringify({ loadT: 2 }), // no ts
    () => JSON.stringify({ ts: ts + 86_400_000, loadT: 2 }), // a day in the future
    () => JSON.stringify({ ts }), // no metric at all
    () => 'not json at all',
  ]
  return (kinds[index % kinds.length] as () => string)()
}
