// Loads GGUF files with llama.cpp (node-llama-cpp's prebuilt CPU binaries, used as a black box)
// and prints, per file, what llama.cpp made of it: its tokenization of a text and the first
// greedy tokens after it. Prints one JSON array to stdout.
//   node llama_cpp_load.mjs TEXT FILE.gguf [FILE.gguf ...]
import { getLlama } from "node-llama-cpp";

const [text, ...files] = process.argv.slice(2);
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
const results = [];
for (const file of files) {
  try {
    const model = await llama.loadModel({ modelPath: file });
    const context = await model.createContext({ contextSize: 256 });
    const tokens = model.tokenize(text);
    const greedy = [];
    for await (const t of context.getSequence().evaluate(tokens, { temperature: 0 })) {
      greedy.push(t);
      if (greedy.length === 8) break;
    }
    results.push({ file, ok: true, tokens: [...tokens], greedy });
    await context.dispose();
    await model.dispose();
  } catch (e) {
    results.push({ file, ok: false, error: String(e) });
  }
}
console.log(JSON.stringify(results));
