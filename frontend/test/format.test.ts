import { describe, expect, test } from 'vitest';
import { ago, bytes, count, duration, utcTime } from '../src/format';

describe('formatting', () => {
  test('durations use the two largest units', () => {
    expect(duration(null)).toBe('–');
    expect(duration(0)).toBe('0 s');
    expect(duration(59)).toBe('59 s');
    expect(duration(61)).toBe('1 min 1 s');
    expect(duration(3600)).toBe('1 h');
    expect(duration(93_784)).toBe('1 d 2 h');
    expect(duration(86_460)).toBe('1 d');
    expect(duration(86_400 * 40 + 1800)).toBe('40 d');
  });

  test('counts, bytes and ages', () => {
    expect(count(1234567)).toBe('1,234,567');
    expect(count(undefined)).toBe('–');
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1536)).toBe('1.5 KiB');
    expect(bytes(28 * 1024)).toBe('28 KiB');
    expect(bytes(3 * 1024 * 1024)).toBe('3.0 MiB');
    const now = new Date('2026-03-02T12:00:00Z');
    expect(ago('2026-03-02T12:00:00Z', now)).toBe('just now');
    expect(ago('2026-03-02T11:59:30Z', now)).toBe('30 s ago');
    expect(ago('2026-03-02T09:00:00Z', now)).toBe('3 h ago');
    expect(ago('2026-02-27T12:00:00Z', now)).toBe('3 d ago');
  });

  test('UTC times of day from Unix milliseconds', () => {
    expect(utcTime(1_795_944_742_409)).toBe('09:32:22');
    expect(utcTime(Date.UTC(2026, 0, 1))).toBe('00:00:00');
    expect(utcTime(Number.NaN)).toBe('NaN');
  });
});
