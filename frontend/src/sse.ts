// Server-sent events read with `fetch`, because an `EventSource` cannot send the read token
// (`Authorization: Bearer`). The parser takes the stream's text in whatever chunks the
// network delivers and gives back whole events, as the WHATWG event-stream rules say:
// lines end in LF, CR or CRLF; a blank line ends an event; `:` starts a comment; `data`
// lines join with LF; the event type defaults to `message`. Pure, so it is unit-tested.

export interface SseEvent {
  /** The `event:` field; `message` when none was given. */
  event: string;
  data: string;
  /** The last `id:` seen, if any. */
  id?: string;
}

export interface SseParser {
  /** Feeds the next chunk of text; returns the events it completed. */
  push(chunk: string): SseEvent[];
}

export function sseParser(): SseParser {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let hasData = false;
  let lastId: string | undefined;
  // A chunk that ended in CR may be followed by the LF of the same CRLF.
  let skipLf = false;

  function line(text: string, out: SseEvent[]): void {
    if (text === '') {
      if (hasData) out.push({ event: event || 'message', data: data.join('\n'), ...(lastId !== undefined ? { id: lastId } : {}) });
      event = '';
      data = [];
      hasData = false;
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') {
      data.push(value);
      hasData = true;
    } else if (field === 'id' && !value.includes('\0')) lastId = value;
    // `retry` and unknown fields are ignored.
  }

  return {
    push(chunk) {
      const out: SseEvent[] = [];
      let text = chunk;
      if (skipLf && text.startsWith('\n')) text = text.slice(1);
      skipLf = false;
      buffer += text;
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer[i];
        if (c !== '\n' && c !== '\r') continue;
        line(buffer.slice(start, i), out);
        if (c === '\r') {
          if (i + 1 < buffer.length) {
            if (buffer[i + 1] === '\n') i++;
          } else {
            skipLf = true;
          }
        }
        start = i + 1;
      }
      buffer = buffer.slice(start);
      return out;
    },
  };
}

/** Reads a `text/event-stream` body until it ends (or its request is aborted), calling `onEvent` for each event. */
export async function readEventStream(body: ReadableStream<Uint8Array>, onEvent: (event: SseEvent) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = sseParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const event of parser.push(decoder.decode(value, { stream: true }))) onEvent(event);
    }
  } finally {
    reader.releaseLock();
  }
}
