// Evaluates token ids with llama.cpp (node-llama-cpp's prebuilt CPU binaries, as a black box) and
// prints its raw logits at every position as JSON: {"n_vocab": N, "logits": [[...], ...],
// "greedy": [...]}, greedy being the argmax continuation of N_GREEDY tokens (default 0) after the
// whole prompt (temperature 0, no repeat penalty).
// The KV cache is kept in F32 and flash attention off, so that the comparison with the float64
// reference measures the model's arithmetic, not an F16 cache.
//   node llama_cpp_logits.mjs MODEL.gguf '[id, id, ...]' [N_GREEDY]
import { getLlama } from "node-llama-cpp";

const [file, idsJson, nGreedyText] = process.argv.slice(2);
const ids = JSON.parse(idsJson);
const nGreedy = Number(nGreedyText ?? 0);
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
const model = await llama.loadModel({ modelPath: file });
const context = await model.createContext({
  contextSize: Math.max(256, ids.length + nGreedy + 16),
  sequences: 2,
  batchSize: Math.max(512, ids.length),
  flashAttention: false,
  experimentalKvCacheKeyType: "F32",
  experimentalKvCacheValueType: "F32",
});

const input = ids.map((id) => [id, { generateNext: { logits: true } }]);
const out = await context.getSequence().controlledEvaluate(input);
const rows = [];
for (let i = 0; i < ids.length; i++) {
  const map = out[i]?.next?.logits;
  if (!map) throw new Error(`no logits at position ${i}`);
  const row = new Array(map.size);
  for (const [tok, v] of map) row[tok] = v;
  rows.push(row);
}
const greedy = [];
if (nGreedy > 0) {
  for await (const t of context.getSequence().evaluate(ids, { temperature: 0 })) {
    greedy.push(t);
    if (greedy.length === nGreedy) break;
  }
}
console.log(JSON.stringify({ n_vocab: rows[0].length, greedy, logits: rows }));
await context.dispose();
await model.dispose();
