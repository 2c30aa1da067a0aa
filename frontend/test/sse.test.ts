import { describe, expect, test } from 'vitest';
import { readEventStream, sseParser, type SseEvent } from '../src/sse';

describe('the event-stream parser', () => {
  test('whole events: type, data, default type, comments', () => {
    const p = sseParser();
    expect(p.push('event: views\ndata: {}\n\n')).toEqual([{ event: 'views', data: '{}' }]);
    expect(p.push(': keep-alive\n\ndata: hello\n\n')).toEqual([{ event: 'message', data: 'hello' }]);
    // An event with no data is not dispatched, and its type does not leak into the next.
    expect(p.push('event: views\n\ndata: x\n\n')).toEqual([{ event: 'message', data: 'x' }]);
  });

  test('events split anywhere across chunks, and several in one chunk', () => {
    const text = 'event: views\ndata: {}\n\nevent: views\ndata: {"n":2}\n\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const p = sseParser();
      const got = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut))];
      expect(got, `cut at ${cut}`).toEqual([
        { event: 'views', data: '{}' },
        { event: 'views', data: '{"n":2}' },
      ]);
    }
    const p = sseParser();
    const one = [...'event: views\ndata: {}\n\n'].flatMap((c) => p.push(c));
    expect(one).toEqual([{ event: 'views', data: '{}' }]);
  });

  test('CRLF and CR line ends, also with the CRLF split between chunks', () => {
    expect(sseParser().push('event: views\r\ndata: a\r\n\r\n')).toEqual([{ event: 'views', data: 'a' }]);
    expect(sseParser().push('event: views\rdata: a\r\r')).toEqual([{ event: 'views', data: 'a' }]);
    const p = sseParser();
    expect([...p.push('event: views\r'), ...p.push('\ndata: a\r'), ...p.push('\n\r'), ...p.push('\n')]).toEqual([{ event: 'views', data: 'a' }]);
  });

  test('multi-line data, fields without a space or a value, ids, unknown fields', () => {
    const p = sseParser();
    expect(p.push('data:one\ndata: two\ndata\nid: 7\nretry: 100\nfoo: bar\n\n')).toEqual([{ event: 'message', data: 'one\ntwo\n', id: '7' }]);
    // Only the first space after the colon is dropped.
    expect(p.push('data:  spaced\n\n')).toEqual([{ event: 'message', data: ' spaced', id: '7' }]);
    // A half event waits for its blank line.
    expect(p.push('event: views\ndata: {}\n')).toEqual([]);
    expect(p.push('\n')).toEqual([{ event: 'views', data: '{}', id: '7' }]);
  });

  test('reads a byte stream, with a UTF-8 character split between chunks', async () => {
    const bytes = new TextEncoder().encode('event: views\ndata: {"t":"é"}\n\n');
    const split = bytes.indexOf(0xc3) + 1;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, split));
        controller.enqueue(bytes.slice(split));
        controller.close();
      },
    });
    const got: SseEvent[] = [];
    await readEventStream(body, (e) => got.push(e));
    expect(got).toEqual([{ event: 'views', data: '{"t":"é"}' }]);
  });
});
