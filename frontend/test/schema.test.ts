// The client's types must be generated from the server's current OpenAPI document.
// `frontend/openapi.json` is checked against the server by `cargo test` (tests/api.rs);
// this checks that `src/api/schema.ts` is what openapi-typescript makes of it.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import { expect, test } from 'vitest';

test('src/api/schema.ts is generated from openapi.json (run `npm run gen:api`)', async () => {
  const root = resolve(import.meta.dirname, '..');
  const document = JSON.parse(readFileSync(resolve(root, 'openapi.json'), 'utf8'));
  const generated = astToString(await openapiTS(document));
  const committed = readFileSync(resolve(root, 'src/api/schema.ts'), 'utf8');
  const body = (s: string) => s.slice(s.indexOf('export interface paths'));
  expect(body(committed)).toBe(body(generated));
});
