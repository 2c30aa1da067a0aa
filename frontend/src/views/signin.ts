// The sign-in page: every read needs a read token, so a reader without a stored one
// starts here, and comes back here when the server refuses the token. A token is checked
// with `GET /api/v1/token` before it is kept.

import { html, nothing, render, type TemplateResult } from 'lit-html';
import { ApiError, type TokenInfo } from '../api/client';
import { saveToken } from '../session';

export interface SignIn {
  /** Why the reader is here again (see `signedOutNotice`); none on a first visit. */
  notice?: string;
  /** Asks the server who a token is; rejects with its `ApiError` for a bad one. */
  verify(token: string): Promise<TokenInfo>;
  /** The token was accepted and stored. */
  signedIn(info: TokenInfo): void;
}

/** What to tell a reader whose token the server refused (401). */
export function signedOutNotice(error: ApiError): string {
  switch (error.code) {
    case 'read_token_expired':
      return 'You were signed out: your read token has expired.';
    case 'read_token_invalid':
      return 'You were signed out: your read token is no longer valid (it was revoked, or Reckon does not know it).';
    default:
      return `You were signed out: ${error.message}`;
  }
}

function form(options: SignIn, busy: boolean, failed: Error | undefined, submit: (e: Event) => void): TemplateResult {
  const code = failed instanceof ApiError ? failed.code : 'client_error';
  return html`<section class="signin" aria-labelledby="signin-title">
    <h1 id="signin-title">Sign in to Reckon</h1>
    ${options.notice ? html`<p class="state notice" role="status" data-testid="signed-out">${options.notice}</p>` : nothing}
    <form @submit=${submit}>
      <label for="read-token">Read token</label>
      <input
        id="read-token"
        name="token"
        type="password"
        required
        autocomplete="off"
        spellcheck="false"
        aria-describedby="read-token-hint"
        aria-invalid=${failed ? 'true' : 'false'}
      />
      <p class="muted" id="read-token-hint">
        A read token starts with <code>rkt_</code>: <code>reckon serve</code> prints the admin token on its first start and keeps it in
        <code>&lt;data dir&gt;/admin-token</code>, and <code>reckon tokens add</code> makes more.
      </p>
      <label class="check"><input type="checkbox" name="remember" /> Remember me on this device</label>
      ${failed ? html`<p class="warn" role="alert" data-code=${code}>${failed.message}</p>` : nothing}
      <button type="submit" ?disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  </section>`;
}

/** Draws the sign-in form into `el` and runs it until a token is accepted. */
export function signIn(el: HTMLElement, options: SignIn): void {
  const input = () => el.querySelector<HTMLInputElement>('#read-token')!;
  const draw = (busy: boolean, failed?: Error) => render(form(options, busy, failed, submit), el);
  async function submit(e: Event): Promise<void> {
    e.preventDefault();
    const token = input().value.trim();
    const remember = el.querySelector<HTMLInputElement>('input[name="remember"]')!.checked;
    if (!token) return;
    draw(true);
    let info: TokenInfo;
    try {
      info = await options.verify(token);
    } catch (error) {
      draw(false, error instanceof Error ? error : new Error(String(error)));
      input().focus();
      input().select();
      return;
    }
    saveToken(token, remember);
    options.signedIn(info);
  }
  draw(false);
  input().focus();
}
