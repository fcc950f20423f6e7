// Writes the JSON Schemas from src/core/schemas.ts (built to dist/) into schemas/ for editors,
// and the precompiled validators into src/core/generated/ (rebuild afterwards).
import { mkdirSync, writeFileSync } from 'node:fs';
import { SCHEMA_FILES } from '../dist/core/schemas.js';
import { generateValidatorSource } from '../dist/core/schema-code.js';

const dir = new URL('../schemas/', import.meta.url);
mkdirSync(dir, { recursive: true });
for (const [name, schema] of Object.entries(SCHEMA_FILES)) {
  writeFileSync(new URL(name, dir), `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`schemas/${name}`);
}
const generated = new URL('../src/core/generated/validators.ts', import.meta.url);
writeFileSync(generated, generateValidatorSource());
console.log('src/core/generated/validators.ts');
