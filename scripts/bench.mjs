// Runs benchmarks: `npm run bench` runs every bench/*.ts, `npm run bench -- store` only bench/store.ts.
// Each benchmark prints its figures and writes bench/results/<name>.json.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const available = readdirSync('bench')
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();
const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!existsSync(`bench/${name}.ts`)) {
    console.error(`unknown benchmark "${name}"; available: ${available.join(', ') || 'none'}`);
    process.exit(2);
  }
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : available) {
  console.log(`== bench ${name}`);
  // tsx runs the TypeScript directly; a generous heap because some benchmarks hold a million events.
  const r = spawnSync(
    process.execPath,
    ['--max-old-space-size=6144', '--import', 'tsx', `bench/${name}.ts`],
    {
      stdio: 'inherit',
    },
  );
  if (r.status !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
