// Loading, empty and error states. Each one says what is happening and what the reader
// can do next, because a blank panel or a bare status code helps nobody.

import { html, type TemplateResult } from 'lit-html';
import { ApiError } from '../api/client';

export function loading(what: string): TemplateResult {
  return html`<p class="state loading" role="status" aria-live="polite">Loading ${what}…</p>`;
}

export function empty(title: string, body: TemplateResult | string): TemplateResult {
  return html`<div class="state empty" role="status">
    <h2>${title}</h2>
    <div>${body}</div>
  </div>`;
}

/** What to tell the reader about a failure, by the API's stable error code. */
export function advice(error: unknown): { title: string; detail: string; hint: string } {
  if (!(error instanceof ApiError)) {
    return {
      title: 'Something went wrong in the dashboard',
      detail: error instanceof Error ? error.message : String(error),
      hint: 'Reload the page; if it keeps happening, the browser console has the details.',
    };
  }
  switch (error.code) {
    case 'unreachable':
      return {
        title: 'Cannot reach Reckon',
        detail: error.message,
        hint: 'Start it with `cargo run --release -- serve`, or check the API base URL this dashboard was deployed with.',
      };
    case 'not_found':
      return {
        title: 'Nothing here yet',
        detail: error.message,
        hint: 'Pick another org from the list, or point the org webhook at Reckon. A read token sees only the orgs its scopes name.',
      };
    case 'invalid_query':
      return {
        title: 'These filters do not work together',
        detail: error.message,
        hint: 'Change the filters above, or reset them.',
      };
    case 'store_unavailable':
    case 'shutting_down':
      return {
        title: 'Reckon is busy or its store is unavailable',
        detail: error.message,
        hint: 'Try again in a few seconds; /readyz shows what is wrong.',
      };
    default:
      return {
        title: error.status >= 500 ? `Reckon answered with an error (${error.status})` : `The request failed (${error.status})`,
        detail: error.message,
        hint: error.status >= 500 ? 'Try again; the server log has the details.' : 'Check the filters and try again.',
      };
  }
}

export function failure(error: unknown, retry?: () => void, reset?: string): TemplateResult {
  const { title, detail, hint } = advice(error);
  const code = error instanceof ApiError ? error.code : 'client_error';
  return html`<div class="state error" role="alert" data-code=${code}>
    <h2>${title}</h2>
    <p class="detail">${detail}</p>
    <p class="hint">${hint}</p>
    <p class="actions">
      ${retry ? html`<button type="button" @click=${retry}>Try again</button>` : null}
      ${reset ? html`<a href=${reset}>Reset filters</a>` : null}
    </p>
  </div>`;
}
