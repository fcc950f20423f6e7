import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateValidatorSource } from '../src/core/schema-code.js';
import { SCHEMA_FILES } from '../src/core/schemas.js';

describe('schemas', () => {
  it('schemas/ holds exactly the schemas quire validates with (run `npm run schemas` after changing src/core/schemas.ts)', () => {
    const dir = new URL('../schemas/', import.meta.url);
    expect(readdirSync(dir).sort()).toEqual(Object.keys(SCHEMA_FILES).sort());
    for (const [name, schema] of Object.entries(SCHEMA_FILES)) {
      expect(JSON.parse(readFileSync(new URL(name, dir), 'utf8')), name).toEqual(schema);
    }
  });

  it('the precompiled validators are generated from the current schemas (`npm run schemas`)', () => {
    const committed = readFileSync(new URL('../src/core/generated/validators.ts', import.meta.url), 'utf8');
    expect(committed === generateValidatorSource(), 'src/core/generated/validators.ts is stale: run `npm run schemas`').toBe(true);
  });
});
