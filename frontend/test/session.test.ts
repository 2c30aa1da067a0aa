import { afterEach, expect, test } from 'vitest';
import { clearToken, readToken, saveToken } from '../src/session';

afterEach(() => {
  sessionStorage.clear();
  localStorage.clear();
});

const kept = (storage: Storage) => Object.values({ ...storage });

test('a token is kept for this tab only, unless the reader asked to be remembered', () => {
  expect(readToken()).toBeNull();
  saveToken('rkt_tab', false);
  expect(readToken()).toBe('rkt_tab');
  expect(kept(sessionStorage)).toEqual(['rkt_tab']);
  expect(localStorage.length).toBe(0);
  saveToken('rkt_device', true);
  expect(readToken()).toBe('rkt_device');
  expect(kept(localStorage)).toEqual(['rkt_device']);
  expect(sessionStorage.length).toBe(0);
});

test('signing out forgets the token wherever it was kept', () => {
  saveToken('rkt_device', true);
  clearToken();
  expect(readToken()).toBeNull();
  saveToken('rkt_tab', false);
  clearToken();
  expect(readToken()).toBeNull();
  expect(sessionStorage.length + localStorage.length).toBe(0);
});
