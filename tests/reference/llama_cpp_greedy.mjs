// The greedy continuation llama.cpp computes for a prompt of token ids, through node-llama-cpp's
// prebuilt CPU binaries (used as a black box). Prints one JSON object per file.
//   node llama_cpp_greedy.mjs N_TOKENS IDS(comma-separated) FILE.gguf [FILE.gguf ...]
import { getLlama } from "node-llama-cpp";

const [nText, idsText, ...files] = process.argv.slice(2);
const n = Number(nText);
const ids = idsText.split(",").map(Number);
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
const results = [];
for (const file of files) {
  try {
    const model = await llama.loadModel({ modelPath: file });
    // KV cache in F32 and flash attention off: the comparison is of the model arithmetic; with an
    // F16 cache both engines round K, V and their products to F16 in different places.
    const context = await model.createContext({
      contextSize: 512,
      threads: 1,
      flashAttention: false,
      experimentalKvCacheKeyType: "F32",
      experimentalKvCacheValueType: "F32",
    });
    const greedy = [];
    // No repeat penalty, no grammar: plain argmax at every step; end-of-generation tokens are
    // yielded and read like any other, so the comparison runs the full length.
    for await (const t of context.getSequence().evaluate(ids, { temperature: 0, yieldEogToken: true })) {
      greedy.push(t);
      if (greedy.length === n) break;
    }
    results.push({ file, ok: true, greedy });
    await context.dispose();
    await model.dispose();
  } catch (e) {
    results.push({ file, ok: false, error: String(e) });
  }
}
console.log(JSON.stringify(results));
