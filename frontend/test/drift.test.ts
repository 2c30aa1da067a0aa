import { render } from 'lit-html';
import { expect, test } from 'vitest';
import type { DriftAnswer } from '../src/api/client';
import { checkLabel, report, signed } from '../src/views/drift';
// A real answer of GET /api/v1/github/orgs/acme/drift, captured by tests/reconcile.rs
// (which fails when the API's shape moves away from it).
import captured from './fixtures/drift.json';

test('signed drift reads as GitHub minus Reckon', () => {
  expect(signed(3)).toBe('+3');
  expect(signed(-1200)).toBe('−1,200');
  expect(signed(0)).toBe('0');
  expect(checkLabel('pull_requests_merged')).toBe('Merged PRs');
  expect(checkLabel('something_new')).toBe('something_new');
});

test('a report shows the repaired state, what was found and the planned task', () => {
  const el = document.createElement('div');
  render(report(captured as unknown as DriftAnswer), el);
  const now = el.querySelector('[data-testid="drift-now"] .card-value')?.textContent?.trim();
  expect(now).toBe('0');
  expect(el.querySelectorAll('[data-testid="drift-checks"] tr.drifting')).toHaveLength(0);
  const found = el.querySelector('[data-testid="drift-found"] tr[data-scope="repo/repo0003"]');
  expect(found?.classList.contains('drifting')).toBe(true);
  expect(found?.querySelector('td:last-child')?.textContent).toBe('+1');
  const task = el.querySelector('[data-testid="drift-tasks"] li')?.textContent ?? '';
  expect(task).toMatch(/^pull requests of repo0003 updated since \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
  expect(el.querySelector('[data-testid="drift-status"]')?.textContent).toContain('Last reconcile');
});

test('a failed run says so and shows the error', () => {
  const failed = { ...(captured as unknown as DriftAnswer), status: 'failed', error: 'GitHub rate limit: no budget until 2026-11-22T22:00:00Z' };
  const el = document.createElement('div');
  render(report(failed), el);
  const status = el.querySelector('[data-testid="drift-status"]');
  expect(status?.classList.contains('state-error')).toBe(true);
  expect(status?.textContent).toContain('no budget until');
});
