import { afterEach, describe, expect, test, vi } from 'vitest';
import { ApiError, createApi, type TokenInfo } from '../src/api/client';
import { readToken } from '../src/session';
import { signedOutNotice, signIn } from '../src/views/signin';
import { fakeFetch } from './fake-fetch';

const ADMIN: TokenInfo = { id: 'abc123def456', name: 'admin', scopes: ['admin'], expires_at: null };
const TOKEN = `rkt_abc123def456_${'x'.repeat(40)}`;

afterEach(() => {
  sessionStorage.clear();
  localStorage.clear();
  document.body.replaceChildren();
});

/** The sign-in form in the document, checking tokens against a server that answers `status` with `body`. */
function form(status: number, body: unknown, notice?: string) {
  const server = fakeFetch(status, body);
  const signedIn = vi.fn();
  const el = document.createElement('main');
  document.body.append(el);
  signIn(el, { notice, verify: (token) => createApi('http://reckon.test', server.impl, { token: () => token }).token(), signedIn });
  const input = el.querySelector<HTMLInputElement>('#read-token')!;
  const submit = (token: string, remember = false) => {
    input.value = token;
    el.querySelector<HTMLInputElement>('input[name="remember"]')!.checked = remember;
    el.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
  };
  return { el, input, server, signedIn, submit };
}

describe('sign-in', () => {
  test('asks for a read token in a labelled, focused password field and says where to find one', () => {
    const { el, input } = form(200, ADMIN);
    expect(input.type).toBe('password');
    expect(el.querySelector('label[for="read-token"]')?.textContent).toBe('Read token');
    expect(document.activeElement).toBe(input);
    expect(el.querySelector<HTMLInputElement>('input[name="remember"]')!.checked).toBe(false);
    expect(el.querySelector('.check')?.textContent?.trim()).toBe('Remember me on this device');
    expect(el.querySelector('#read-token-hint')?.textContent).toContain('<data dir>/admin-token');
    expect(el.querySelector('[role="alert"]')).toBeNull();
  });

  test("a refused token shows the server's message and is not kept", async () => {
    const { el, server, signedIn, submit } = form(401, { code: 'read_token_invalid', message: 'this read token is unknown or revoked' });
    submit(` ${TOKEN}\n`);
    await vi.waitFor(() => expect(el.querySelector('[role="alert"]')).not.toBeNull());
    const alert = el.querySelector('[role="alert"]')!;
    expect(alert.textContent).toBe('this read token is unknown or revoked');
    expect(alert.getAttribute('data-code')).toBe('read_token_invalid');
    expect(server.auth).toEqual([`Bearer ${TOKEN}`]);
    expect(server.calls).toEqual(['http://reckon.test/api/v1/token']);
    expect(readToken()).toBeNull();
    expect(signedIn).not.toHaveBeenCalled();
    expect(document.activeElement).toBe(el.querySelector('#read-token'));
  });

  test('an accepted token is kept for the tab, or on the device when asked', async () => {
    const tab = form(200, ADMIN);
    tab.submit(TOKEN);
    await vi.waitFor(() => expect(tab.signedIn).toHaveBeenCalledExactlyOnceWith(ADMIN));
    expect(sessionStorage.length).toBe(1);
    expect(localStorage.length).toBe(0);
    expect(readToken()).toBe(TOKEN);
    const device = form(200, ADMIN);
    device.submit(TOKEN, true);
    await vi.waitFor(() => expect(device.signedIn).toHaveBeenCalledOnce());
    expect(sessionStorage.length).toBe(0);
    expect(localStorage.length).toBe(1);
  });

  test('a reader signed out by a 401 is told why', () => {
    const { el } = form(200, ADMIN, signedOutNotice(new ApiError(401, 'read_token_expired', 'the read token expired at 2026-11-01T00:00:00Z')));
    expect(el.querySelector('[data-testid="signed-out"]')?.textContent).toBe('You were signed out: your read token has expired.');
    expect(signedOutNotice(new ApiError(401, 'read_token_invalid', 'unknown'))).toContain('no longer valid');
    expect(signedOutNotice(new ApiError(401, 'read_token_missing', 'send `Authorization: Bearer <read token>`'))).toBe(
      'You were signed out: send `Authorization: Bearer <read token>`',
    );
  });
});
