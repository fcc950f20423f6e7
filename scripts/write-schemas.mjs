// Writes the JSON Schemas from src/core/schemas.ts (built to dist/) into schemas/, for editors.
import { writeFileSync, mkdirSync } from 'node:fs';
import { SCHEMA_FILES } from '../dist/core/schemas.js';

const dir = new URL('../schemas/', import.meta.url);
mkdirSync(dir, { recursive: true });
for (const [name, schema] of Object.entries(SCHEMA_FILES)) {
  writeFileSync(new URL(name, dir), `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`schemas/${name}`);
}
