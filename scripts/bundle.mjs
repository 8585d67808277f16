// The browser bundle after `cargo leptos build --release` (whose
// `--precompress` writes the brotli and gzip copies the server carries).
//
//   node scripts/bundle.mjs check      fails when the brotli first-load bytes
//                                      grew past the size recorded in
//                                      end2end/bundle-size.json.
//   node scripts/bundle.mjs record     records the current size there.
//
// Node's own zlib: no dependency, and the same numbers on every machine.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const pkg = process.env.BUNDLE_DIR ?? 'target/site/pkg';
const recordFile = 'end2end/bundle-size.json';
// docs/design.md budgets the first load of /login, as served, in brotli.
const BUDGET = 100 * 1024;
// Room for noise between toolchain builds; anything more is growth.
const SLACK = 1024;

const assets = readdirSync(pkg).filter((n) => /\.(wasm|js|css)$/.test(n)).sort();
if (assets.length === 0) {
  console.error(`no .wasm/.js/.css in ${pkg}: run cargo leptos build --release first`);
  process.exit(1);
}

function sizes() {
  return assets.map((name) => {
    const data = readFileSync(join(pkg, name));
    const br = brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    });
    const gz = gzipSync(data, { level: 9 });
    return { name, data, br, gz };
  });
}

function table(rows) {
  for (const r of rows) {
    console.log(`  ${r.name.padEnd(24)} ${String(r.data.length).padStart(9)} raw ${String(r.gz.length).padStart(8)} gzip ${String(r.br.length).padStart(8)} br`);
  }
  const total = (k) => rows.reduce((s, r) => s + r[k].length, 0);
  console.log(`  ${'total'.padEnd(24)} ${String(total('data')).padStart(9)} raw ${String(total('gz')).padStart(8)} gzip ${String(total('br')).padStart(8)} br`);
  return { raw: total('data'), gzip: total('gz'), brotli: total('br') };
}

const command = process.argv[2];
if (command === 'check' || command === 'record') {
  const now = table(sizes());
  if (command === 'record') {
    writeFileSync(recordFile, JSON.stringify({ ...now, budget_brotli: BUDGET }, null, 2) + '\n');
    console.log(`recorded in ${recordFile}`);
  } else {
    const recorded = JSON.parse(readFileSync(recordFile, 'utf8'));
    const over = now.brotli > BUDGET ? ` — over the ${BUDGET} B budget of docs/design.md by ${now.brotli - BUDGET} B (see BENCHMARKS.md)` : '';
    if (now.brotli > recorded.brotli + SLACK) {
      console.error(`FAIL: the first-load bundle grew to ${now.brotli} B brotli, past the recorded ${recorded.brotli} B.`);
      console.error('Make it smaller, or if the growth is worth it, run `node scripts/bundle.mjs record` and say why in the commit.');
      process.exit(1);
    }
    console.log(`bundle size: ${now.brotli} B brotli, recorded ${recorded.brotli} B${over}`);
  }
} else {
  console.error('usage: node scripts/bundle.mjs check|record');
  process.exit(2);
}
