#include "engine/tokenizer/vocab.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "common/json.h"
#include "engine/tokenizer/pretokenize.h"
#include "engine/tokenizer/unicode.h"

namespace scout {
namespace {

using nlohmann::json;

// The Split regexes of each supported pre-tokenizer, as tokenizer.json spells them (with "\r"
// and "\n" written as escapes; see canonical_regex()).
constexpr std::string_view kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kDeepseekDigitsRegex = R"(\p{N}{1,3})";
constexpr std::string_view kDeepseekCjkRegex = "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+";
constexpr std::string_view kDeepseekMainRegex =
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// DeepSeek's file writes CR and LF inside its character classes as the characters themselves;
// Qwen's as "\r" and "\n". Both mean the same to the regex engine.
std::string canonical_regex(std::string_view re) {
  std::string out;
  for (char c : re) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

Result<json> read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = parse_json<json>(ss.str());
  if (!j) return make_error(path + ": not valid JSON (" + j.error().message + ")");
  return j;
}

bool looks_special(std::string_view t) {
  if (t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]") return true;
  if (t.starts_with("<|") && t.ends_with("|>")) return true;
  if (t.starts_with("<\uFF5C") && t.ends_with("\uFF5C>")) return true;  // <｜...｜>
  if (t.starts_with("<unused") && t.ends_with(">")) return true;
  return false;
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  size_t pos = 0;
  for (size_t hit; (hit = s.find(from, pos)) != std::string_view::npos; pos = hit + from.size()) {
    out.append(s.substr(pos, hit - pos));
    out.append(to);
  }
  out.append(s.substr(pos));
  return out;
}

// The pre-tokenizer type a tokenizer.json describes, or an error quoting what it found.
Result<PreType> detect_pre(const json& root, const std::string& path) {
  const json pre = root.value("pre_tokenizer", json());
  auto unknown = [&](const std::string& why) {
    std::string found = pre.dump();
    if (found.size() > 600) found = found.substr(0, 600) + "...";
    return make_error(path + ": pre_tokenizer not recognised (" + why +
                      "); supported: the Split regexes of qwen2, llama-bpe and deepseek-v3. Found: " + found);
  };
  if (!pre.is_object() || pre.value("type", "") != "Sequence" || !pre.contains("pretokenizers") ||
      !pre["pretokenizers"].is_array()) {
    return unknown("expected a Sequence of Split pre-tokenizers ending with ByteLevel");
  }
  const json& seq = pre["pretokenizers"];
  if (seq.empty()) return unknown("empty Sequence");
  const json& last = seq.back();
  if (last.value("type", "") != "ByteLevel" || last.value("use_regex", true) || last.value("add_prefix_space", false)) {
    return unknown("the last step must be ByteLevel with use_regex=false and add_prefix_space=false");
  }
  std::vector<std::string> regexes;
  for (size_t i = 0; i + 1 < seq.size(); ++i) {
    const json& s = seq[i];
    if (s.value("type", "") != "Split" || s.value("behavior", "") != "Isolated" || s.value("invert", false) ||
        !s.contains("pattern") || !s["pattern"].is_object() || !s["pattern"].contains("Regex") ||
        !s["pattern"]["Regex"].is_string()) {
      return unknown("step " + std::to_string(i) + " is not an Isolated, non-inverted Split on a Regex");
    }
    regexes.push_back(canonical_regex(s["pattern"]["Regex"].get<std::string>()));
  }
  if (regexes.size() == 1 && regexes[0] == kQwen2Regex) return PreType::qwen2;
  if (regexes.size() == 1 && regexes[0] == kLlama3Regex) return PreType::llama_bpe;
  if (regexes.size() == 3 && regexes[0] == kDeepseekDigitsRegex && regexes[1] == kDeepseekCjkRegex &&
      regexes[2] == kDeepseekMainRegex) {
    return PreType::deepseek_v3;
  }
  return unknown("unknown Split regexes");
}

Result<bool> check_normalizer(const json& root, PreType pre, const std::string& path) {
  const json n = root.value("normalizer", json());
  const bool is_nfc = n.is_object() && n.value("type", "") == "NFC";
  const bool is_none = n.is_null() || (n.is_object() && n.value("type", "") == "Sequence" &&
                                       n.contains("normalizers") && n["normalizers"].is_array() &&
                                       n["normalizers"].empty());
  const bool want_nfc = pre == PreType::qwen2;
  if ((want_nfc && !is_nfc) || (!want_nfc && !is_none)) {
    return make_error(path + ": normalizer " + n.dump() + " does not match pre-tokenizer '" +
                      std::string(pre_type_name(pre)) + "', which implies " + (want_nfc ? "NFC" : "no normalizer"));
  }
  return true;
}

// Text of a token entry in tokenizer_config.json: "text" or {"content": "text", ...}.
std::optional<std::string> config_token(const json& config, const char* key) {
  if (!config.contains(key)) return std::nullopt;
  const json& v = config[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return std::nullopt;
}

// The bos token a TemplateProcessing post-processor puts first, if it does.
std::optional<std::string> template_first_special(const json& post) {
  if (!post.is_object()) return std::nullopt;
  if (post.value("type", "") == "Sequence" && post.contains("processors") && post["processors"].is_array()) {
    for (const json& p : post["processors"]) {
      if (auto s = template_first_special(p)) return s;
    }
    return std::nullopt;
  }
  if (post.value("type", "") != "TemplateProcessing" || !post.contains("single") || !post["single"].is_array() ||
      post["single"].empty()) {
    return std::nullopt;
  }
  const json& first = post["single"][0];
  if (first.contains("SpecialToken") && first["SpecialToken"].contains("id") && first["SpecialToken"]["id"].is_string()) {
    return first["SpecialToken"]["id"].get<std::string>();
  }
  return std::nullopt;
}

}  // namespace

Result<Vocab> vocab_from_tokenizer_json(const std::string& tokenizer_json_path,
                                        const std::string& tokenizer_config_path_or_empty) {
  const std::string& path = tokenizer_json_path;
  auto root_r = read_json(path);
  if (!root_r) return Unexpected{root_r.error()};
  const json& root = *root_r;

  try {
    const json& model = root.at("model");
    if (model.value("type", "") != "BPE") {
      return make_error(path + ": model.type is '" + model.value("type", "") + "', only BPE is supported");
    }
    if (model.value("byte_fallback", false)) return make_error(path + ": model.byte_fallback=true is not supported");
    const auto pre = detect_pre(root, path);
    if (!pre) return Unexpected{pre.error()};
    if (auto ok = check_normalizer(root, *pre, path); !ok) return Unexpected{ok.error()};
    const bool ignore_merges = model.value("ignore_merges", false);
    if (ignore_merges != (*pre == PreType::llama_bpe)) {
      return make_error(path + ": model.ignore_merges is " + (ignore_merges ? "true" : "false") +
                        " but pre-tokenizer '" + std::string(pre_type_name(*pre)) + "' implies the opposite");
    }

    Vocab v;
    v.pre = std::string(pre_type_name(*pre));

    const json& vocab = model.at("vocab");
    if (!vocab.is_object()) return make_error(path + ": model.vocab is not an object");
    const json added = root.value("added_tokens", json::array());
    int64_t max_id = -1;
    for (const auto& [text, id] : vocab.items()) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
        return make_error(path + ": model.vocab['" + text + "'] is not a token id");
      }
      max_id = std::max(max_id, id.get<int64_t>());
    }
    for (const json& a : added) {
      const int64_t id = a.at("id").get<int64_t>();
      if (id < 0 || id > INT32_MAX) return make_error(path + ": added_tokens id " + std::to_string(id) + " out of range");
      max_id = std::max(max_id, id);
    }
    const size_t n = static_cast<size_t>(max_id + 1);
    v.tokens.assign(n, std::string());
    v.token_types.assign(n, TokenType::unused);
    std::vector<bool> filled(n, false);
    for (const auto& [text, id] : vocab.items()) {
      const auto i = static_cast<size_t>(id.get<int64_t>());
      if (filled[i]) return make_error(path + ": model.vocab gives id " + std::to_string(i) + " to two tokens");
      v.tokens[i] = text;
      v.token_types[i] = TokenType::normal;
      filled[i] = true;
    }
    bool any_flags = false;
    std::vector<uint8_t> flags(n, 0);
    for (const json& a : added) {
      const auto i = static_cast<size_t>(a.at("id").get<int64_t>());
      std::string content = a.at("content").get<std::string>();
      const bool special = a.value("special", false);
      if (special || looks_special(content)) {
        v.token_types[i] = TokenType::control;
      } else {
        content = replace_all(content, "\u2581", " ");
        v.token_types[i] = TokenType::user_defined;
      }
      v.tokens[i] = content;
      filled[i] = true;
      flags[i] = static_cast<uint8_t>((a.value("lstrip", false) ? kAddedLstrip : 0) |
                                      (a.value("rstrip", false) ? kAddedRstrip : 0));
      any_flags = any_flags || flags[i] != 0;
    }
    if (any_flags) v.added_flags = std::move(flags);
    for (size_t i = 0; i < n; ++i) {
      if (!filled[i]) v.tokens[i] = "[PAD" + std::to_string(i) + "]";
    }

    const json& merges = model.at("merges");
    if (!merges.is_array()) return make_error(path + ": model.merges is not an array");
    v.merges.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
      const json& m = merges[i];
      if (m.is_string()) {
        v.merges.push_back(m.get<std::string>());
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
      } else {
        return make_error(path + ": model.merges[" + std::to_string(i) + "] is neither \"a b\" nor [\"a\", \"b\"]");
      }
    }

    std::unordered_map<std::string, int32_t> by_text;
    for (size_t i = 0; i < n; ++i) {
      // Added tokens take precedence over a normal token with the same text.
      auto [it, inserted] = by_text.emplace(v.tokens[i], static_cast<int32_t>(i));
      if (!inserted && v.is_added(i) && !v.is_added(static_cast<size_t>(it->second))) it->second = static_cast<int32_t>(i);
    }
    auto id_of = [&](const std::string& text) -> std::optional<int32_t> {
      const auto it = by_text.find(text);
      if (it == by_text.end()) return std::nullopt;
      return it->second;
    };

    json config = json::object();
    if (!tokenizer_config_path_or_empty.empty()) {
      auto c = read_json(tokenizer_config_path_or_empty);
      if (!c) return Unexpected{c.error()};
      config = std::move(*c);
    }
    struct SpecialField {
      const char* key;
      std::optional<int32_t>* id;
    };
    for (const SpecialField& f : {SpecialField{"bos_token", &v.bos_id}, SpecialField{"eos_token", &v.eos_id},
                                  SpecialField{"pad_token", &v.pad_id}, SpecialField{"unk_token", &v.unk_id}}) {
      if (auto text = config_token(config, f.key)) {
        *f.id = id_of(*text);
        if (!*f.id) {
          return make_error(tokenizer_config_path_or_empty + ": " + f.key + " '" + *text + "' is not a token");
        }
      }
    }
    for (const char* eot : {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                            "<\uFF5Cend\u2581of\u2581sentence\uFF5C>", "<|endoftext|>"}) {
      if (auto id = id_of(eot); id && v.is_added(static_cast<size_t>(*id))) {
        v.eot_id = id;
        break;
      }
    }
    if (config.contains("add_bos_token") && config["add_bos_token"].is_boolean()) {
      v.add_bos = config["add_bos_token"].get<bool>();
    } else if (auto first = template_first_special(root.value("post_processor", json())); first && v.bos_id) {
      v.add_bos = id_of(*first) == v.bos_id;
    } else {
      v.add_bos = *pre == PreType::llama_bpe;
    }
    if (config.contains("add_eos_token") && config["add_eos_token"].is_boolean()) {
      v.add_eos = config["add_eos_token"].get<bool>();
    }
    if (const auto t = config.find("chat_template"); t != config.end()) {
      if (t->is_string()) v.chat_template = t->get<std::string>();
      if (t->is_array()) {
        for (const json& named : *t)
          if (named.is_object() && named.value("name", "") == "default" && named.contains("template") &&
              named["template"].is_string())
            v.chat_template = named["template"].get<std::string>();
      }
    }
    return v;
  } catch (const json::exception& e) {
    return make_error(path + ": unexpected structure: " + e.what());
  }
}

Vocab truncate_vocab(const Vocab& vocab, size_t n_regular) {
  const size_t n = vocab.tokens.size();
  std::vector<bool> keep(n, false);
  size_t kept_regular = 0;
  std::string raw;
  for (size_t id = 0; id < n; ++id) {
    const TokenType t = vocab.token_types[id];
    if (t != TokenType::normal && t != TokenType::byte) continue;
    const bool single_byte = unicode::byte_level_to_bytes(vocab.tokens[id], raw) && raw.size() == 1;
    if (kept_regular < n_regular) {
      keep[id] = true;
      ++kept_regular;
    } else if (single_byte) {
      keep[id] = true;
    }
  }
  for (const auto& id : {vocab.bos_id, vocab.eos_id, vocab.eot_id, vocab.pad_id, vocab.unk_id}) {
    if (id) keep[static_cast<size_t>(*id)] = true;
  }

  Vocab out;
  out.model = vocab.model;
  out.pre = vocab.pre;
  out.add_bos = vocab.add_bos;
  out.add_eos = vocab.add_eos;
  out.chat_template = vocab.chat_template;
  std::vector<int32_t> new_id(n, -1);
  auto take = [&](size_t id) {
    new_id[id] = static_cast<int32_t>(out.tokens.size());
    out.tokens.push_back(vocab.tokens[id]);
    out.token_types.push_back(vocab.token_types[id]);
    if (!vocab.added_flags.empty()) out.added_flags.push_back(vocab.added_flags[id]);
  };
  // Regular tokens first, then added ones: the same layout as the original vocabularies.
  for (size_t id = 0; id < n; ++id) {
    if (keep[id] && !vocab.is_added(id) && vocab.token_types[id] != TokenType::unused) take(id);
  }
  for (size_t id = 0; id < n; ++id) {
    if (vocab.is_added(id)) take(id);
  }

  std::unordered_set<std::string> kept_text;
  for (size_t id = 0; id < out.tokens.size(); ++id) {
    if (!out.is_added(id)) kept_text.insert(out.tokens[id]);
  }
  for (const std::string& m : vocab.merges) {
    const size_t space = m.find(' ', 1);
    if (space == std::string::npos) continue;
    const std::string left = m.substr(0, space), right = m.substr(space + 1);
    if (kept_text.count(left) && kept_text.count(right) && kept_text.count(left + right)) out.merges.push_back(m);
  }

  auto remap = [&](const std::optional<int32_t>& id) -> std::optional<int32_t> {
    if (!id || new_id[static_cast<size_t>(*id)] < 0) return std::nullopt;
    return new_id[static_cast<size_t>(*id)];
  };
  out.bos_id = remap(vocab.bos_id);
  out.eos_id = remap(vocab.eos_id);
  out.eot_id = remap(vocab.eot_id);
  out.pad_id = remap(vocab.pad_id);
  out.unk_id = remap(vocab.unk_id);
  return out;
}

}  // namespace scout
