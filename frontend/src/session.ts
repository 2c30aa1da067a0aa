// The read token is the dashboard's one secret, so one module alone reads, writes and
// clears it, under one storage key: in sessionStorage (this tab, until it closes) unless
// the reader asked to be remembered on this device, then in localStorage. It never goes
// into a URL or a log.

const KEY = 'reckon-read-token';

/** The stored read token, if the reader is signed in. */
export function readToken(): string | null {
  return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY);
}

/** Keeps a checked token: for this tab only, or on this device when `remember` is set. */
export function saveToken(token: string, remember: boolean): void {
  clearToken();
  (remember ? localStorage : sessionStorage).setItem(KEY, token);
}

/** Signs out: forgets the token wherever it was kept. */
export function clearToken(): void {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}
