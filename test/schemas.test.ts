import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCHEMA_FILES } from '../src/core/schemas.js';

describe('schemas/', () => {
  it('holds exactly the schemas ajv validates with (run `npm run schemas` after changing src/core/schemas.ts)', () => {
    const dir = new URL('../schemas/', import.meta.url);
    expect(readdirSync(dir).sort()).toEqual(Object.keys(SCHEMA_FILES).sort());
    for (const [name, schema] of Object.entries(SCHEMA_FILES)) {
      expect(JSON.parse(readFileSync(new URL(name, dir), 'utf8')), name).toEqual(schema);
    }
  });
});
