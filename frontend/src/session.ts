// The read token is the dashboard's one secret, so one module alone reads, writes and
// clears it, under one storage key: in sessionStorage (this tab, until it closes) unless
// the reader asked to be remembered on this device, then in localStorage. It never goes
// into a URL or a log.

/** The one storage key; exported for the e2e tests, which seed it to skip the sign-in form. */
export const TOKEN_KEY = 'reckon-read-token';

/** The stored read token, if the reader is signed in. */
export function readToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY);
}

/** Keeps a checked token: for this tab only, or on this device when `remember` is set. */
export function saveToken(token: string, remember: boolean): void {
  clearToken();
  (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
}

/** Signs out: forgets the token wherever it was kept. */
export function clearToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
}
