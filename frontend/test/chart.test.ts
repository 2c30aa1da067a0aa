import { expect, test } from 'vitest';
import { bucketLabel, bucketSeconds } from '../src/ui/chart';

test('chart labels name the bucket start, with the year in January', () => {
  expect(bucketLabel(bucketSeconds('2026-03-02'), 7)).toBe('Mar 2');
  expect(bucketLabel(bucketSeconds('2026-01-05'), 7)).toBe('Jan 5, 2026');
  expect(bucketLabel(bucketSeconds('2026-01-12'), 7)).toBe('Jan 12');
  expect(bucketLabel(bucketSeconds('2026-01-01'), 30)).toBe('Jan 2026');
});
