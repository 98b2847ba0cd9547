// Pre-tokenizers: split text into the pieces that BPE then encodes one at a time.
//
// Each vocabulary family names its splitting by regexes in its tokenizer.json; GGUF files name the
// family in `tokenizer.ggml.pre`. The regexes use a negative lookahead (\s+(?!\S)), which RE2 and
// std::regex lack, so each family here is a hand-written scanner over code points that reproduces
// the regex's leftmost-first, greedy-with-backtracking match exactly (the reasoning for every
// alternative is written beside its code). The HF `tokenizers` library runs these regexes with
// Oniguruma; see unicode.h for the whitespace and case-folding facts that matter.
//
//   qwen2       (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*
//               |\s*[\r\n]+|\s+(?!\S)|\s+
//   llama_bpe   the same with \p{N}{1,3} in place of \p{N}
//   deepseek_v3 three splits, each applied to every piece the previous one produced:
//               1. \p{N}{1,3}
//               2. [一-龥぀-ゟ゠-ヿ]+           (U+4E00..U+9FA5, U+3040..U+309F, U+30A0..U+30FF)
//               3. [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+
//                  | ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// All splits are "isolated": the matches become pieces and so does any text between two matches
// (only the DeepSeek regexes can leave such gaps). The case-insensitive contractions follow
// Oniguruma's Unicode case folding: (?i:'s) also matches U+017F LATIN SMALL LETTER LONG S.
//
// Ill-formed UTF-8 bytes take part in splitting as characters of no class (like an unassigned
// code point), so every byte of the input lands in exactly one piece.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace scout {

enum class PreType {
  qwen2,       // "qwen2": Qwen2, Qwen2.5, Qwen3
  llama_bpe,    // "llama-bpe": Llama 3.x
  deepseek_v3,  // "deepseek-v3": DeepSeek-V3, DeepSeek-R1
};

// The `tokenizer.ggml.pre` name of a pre-tokenizer and back.
std::string_view pre_type_name(PreType type);
std::optional<PreType> pre_type_from_name(std::string_view name);

// Appends the pieces of `text` to `out`, in order. The pieces are non-empty views into `text`
// that together cover it exactly.
void pre_tokenize(PreType type, std::string_view text, std::vector<std::string_view>& out);

}  // namespace scout
