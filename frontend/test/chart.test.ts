import { expect, test } from 'vitest';
import { bucketLabel, bucketSeconds, stackSeries } from '../src/ui/chart';

test('chart labels name the bucket start, with the year in January', () => {
  expect(bucketLabel(bucketSeconds('2026-03-02'), 7)).toBe('Mar 2');
  expect(bucketLabel(bucketSeconds('2026-01-05'), 7)).toBe('Jan 5, 2026');
  expect(bucketLabel(bucketSeconds('2026-01-12'), 7)).toBe('Jan 12');
  expect(bucketLabel(bucketSeconds('2026-01-01'), 30)).toBe('Jan 2026');
});

test('stacked series add up from the first and are drawn tallest first', () => {
  const stacked = stackSeries([
    { label: 'milestone', color: 'a', values: [1, 0, 5] },
    { label: 'game', color: 'b', values: [2, 0, 0] },
    { label: 'crash', color: 'c', values: [0, 0, 1] },
  ]);
  expect(stacked.map((s) => [s.label, s.values])).toEqual([
    ['crash', [3, 0, 6]],
    ['game', [3, 0, 5]],
    ['milestone', [1, 0, 5]],
  ]);
  expect(stackSeries([])).toEqual([]);
});

test('hourly buckets are RFC 3339 instants, labelled by the hour and the day at midnight', () => {
  expect(bucketSeconds('2026-11-30T14:00:00Z')).toBe(bucketSeconds('2026-11-30') + 14 * 3600);
  expect(bucketLabel(bucketSeconds('2026-11-30T14:00:00Z'), 1 / 24)).toBe('14:00');
  expect(bucketLabel(bucketSeconds('2026-11-30T00:00:00Z'), 1 / 24)).toBe('Nov 30 00:00');
});
