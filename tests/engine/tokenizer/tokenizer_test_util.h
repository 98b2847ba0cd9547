// Shared by the tokenizer tests: running the reference script (tests/reference/
// tokenize_reference.mjs) with node, loading the real vocabularies through a GGUF round trip,
// reading the corpus, and a small synthetic vocabulary for unit tests.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/vocab.h"

namespace scout::test {

// The three real vocabularies, by their reference names: "qwen3", "deepseek_v3", "llama3".
inline const std::vector<std::string> kVocabNames = {"qwen3", "deepseek_v3", "llama3"};

// tokenizer.json and tokenizer_config.json of a real vocabulary (under tests/reference/node_modules).
std::string vocab_json_path(const std::string& name);
std::string vocab_config_path(const std::string& name);

// Fails the current test (never skips) when the npm reference peers are not installed.
void require_reference_peers();
// True when the HF tokenizers library (npm package `tokenizers`) can be loaded by the script.
bool hf_reference_available();

// Runs `node tokenize_reference.mjs <args...> --input <file holding input>` and returns the
// JSON it prints. A failure to run is a test failure that shows the script's message.
nlohmann::json run_reference(const std::vector<std::string>& args, const nlohmann::json& input);

// tokenizer.json -> Vocab -> GGUF (metadata only, in memory) -> Vocab -> Tokenizer. Loaded once
// per name and kept for the rest of the run.
const Tokenizer& real_tokenizer(const std::string& name);

struct CorpusFile {
  std::string name;  // file name, e.g. "english_prose.txt"
  std::string text;
};
// Every file of tests/data/tokenizer_corpus/*.txt, sorted by name.
const std::vector<CorpusFile>& corpus();
// Lines of `text`, each with its line ending.
std::vector<std::string> split_lines(const std::string& text);

// A valid byte-level vocabulary: the 256 byte tokens, then the tokens and merges given
// (merges as "a b" in byte-level form; their results are appended as tokens), then the added
// tokens given as (text, type).
Vocab make_vocab(const std::string& pre, const std::vector<std::string>& merges,
                 const std::vector<std::pair<std::string, TokenType>>& added = {});

// Deterministic random strings built from code points that stress the pre-tokenizers: every
// kind of whitespace (incl. \r, \n, U+00A0, U+3000, U+2028), letters of several scripts and
// cases, combining marks, digits of several kinds, punctuation, symbols, emoji with ZWJ and
// skin tones, apostrophes with s/S/t/re/ve/m/ll/d, controls, private-use and unassigned code
// points. With `with_js_divergent`, also U+0085, U+FEFF and U+017F, where JavaScript's regexes
// disagree with Oniguruma's.
std::vector<std::string> random_tricky_strings(uint64_t seed, size_t count, size_t max_chars,
                                               bool with_js_divergent);

// Pretty form of an id list for failure messages.
std::string ids_to_string(const std::vector<int32_t>& ids);

}  // namespace scout::test
