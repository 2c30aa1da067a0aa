import { expect, test } from 'vitest';
import { fillDays } from '../src/views/events';

test('fillDays zero-fills every day of the range, inclusive', () => {
  const days = [
    { source: 'github', day: '2026-02-27', events: 3 },
    { source: 'github', day: '2026-03-01', events: 5 },
  ];
  expect(fillDays(days, '2026-02-27', '2026-03-02')).toEqual([
    { day: '2026-02-27', events: 3 },
    { day: '2026-02-28', events: 0 },
    { day: '2026-03-01', events: 5 },
    { day: '2026-03-02', events: 0 },
  ]);
  expect(fillDays([], '2026-03-02', '2026-03-01')).toEqual([]);
});
