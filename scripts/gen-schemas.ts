// Writes the JSON Schemas of the two user-edited files, for editors (yaml-language-server) and other tools.
// Run: npx tsx scripts/gen-schemas.ts   (a unit test fails when the committed files are stale)
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { BacklogSchema } from '../src/core/backlog.js';
import { ConfigSchema } from '../src/core/config.js';

export const SCHEMAS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'schemas');

/** File name → file content, exactly as committed under `schemas/`. */
export function generateSchemas(): Record<string, string> {
  // io 'input': what a user may write (keys with defaults are optional), not what the parser returns.
  const render = (schema: z.ZodType) =>
    `${JSON.stringify(z.toJSONSchema(schema, { io: 'input' }), null, 2)}\n`;
  return {
    'backlog.schema.json': render(BacklogSchema),
    'config.schema.json': render(ConfigSchema),
  };
}

function main(): void {
  for (const [name, content] of Object.entries(generateSchemas())) {
    writeFileSync(path.join(SCHEMAS_DIR, name), content);
    process.stdout.write(`wrote schemas/${name}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) main();
