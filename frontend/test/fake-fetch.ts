// A `fetch` that answers every request with one canned response and records what was
// asked: the URLs, and the read token each request carried.

export function fakeFetch(status: number, body: unknown, contentType = 'application/json', headers: Record<string, string> = {}) {
  const calls: string[] = [];
  /** The `Authorization` header of each call, `null` where none was sent. */
  const auth: (string | null)[] = [];
  const impl = (async (input: RequestInfo | URL) => {
    calls.push(input instanceof Request ? input.url : String(input));
    auth.push(input instanceof Request ? input.headers.get('Authorization') : null);
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
      status,
      headers: { 'Content-Type': contentType, ...headers },
    });
  }) as typeof fetch;
  return { impl, calls, auth };
}
