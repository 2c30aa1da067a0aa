import { render } from 'lit-html';
import { expect, test, vi } from 'vitest';
import { parseRoute } from '../src/route';
import { nav } from '../src/ui/nav';

test('the nav names the signed-in token and signs out', () => {
  const el = document.createElement('nav');
  const signOut = vi.fn();
  const route = parseRoute('#/deliveries');
  render(nav(route, [], undefined, () => undefined, { signOut }), el);
  // Before `GET /api/v1/token` answers there is no name, but already a way out.
  expect(el.querySelector('[data-testid="signed-in-as"]')).toBeNull();
  const token = { id: 'abc123def456', name: 'ops', scopes: ['github:acme', 'source:dcss'], expires_at: null };
  render(nav(route, [], undefined, () => undefined, { token, signOut }), el);
  const who = el.querySelector('[data-testid="signed-in-as"]')!;
  expect(who.textContent).toBe('Signed in as ops');
  expect(who.getAttribute('title')).toBe('github:acme source:dcss');
  el.querySelector('button')!.click();
  expect(signOut).toHaveBeenCalledOnce();
});
