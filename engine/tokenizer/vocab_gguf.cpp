#include "engine/tokenizer/vocab_gguf.h"

#include <string>

namespace scout {
namespace {

constexpr const char* kModel = "tokenizer.ggml.model";
constexpr const char* kPre = "tokenizer.ggml.pre";
constexpr const char* kTokens = "tokenizer.ggml.tokens";
constexpr const char* kTokenType = "tokenizer.ggml.token_type";
constexpr const char* kMerges = "tokenizer.ggml.merges";
constexpr const char* kBos = "tokenizer.ggml.bos_token_id";
constexpr const char* kEos = "tokenizer.ggml.eos_token_id";
constexpr const char* kEot = "tokenizer.ggml.eot_token_id";
constexpr const char* kPad = "tokenizer.ggml.padding_token_id";
constexpr const char* kUnk = "tokenizer.ggml.unknown_token_id";
constexpr const char* kAddBos = "tokenizer.ggml.add_bos_token";
constexpr const char* kAddEos = "tokenizer.ggml.add_eos_token";
constexpr const char* kChatTemplate = "tokenizer.chat_template";

Unexpected<Error> gguf_error(const gguf::GgufError& e) { return make_error(e.describe()); }

}  // namespace

Result<Vocab> vocab_from_gguf(const gguf::File& file) {
  Vocab v;
  auto model = file.get_string(kModel);
  if (!model) return gguf_error(model.error());
  v.model = std::string(*model);
  if (v.model != "gpt2") {
    return make_error(file.path() + ": " + kModel + " is '" + v.model + "'; only 'gpt2' (byte-level BPE) is supported");
  }
  auto pre = file.get_string(kPre);
  if (!pre) return gguf_error(pre.error());
  v.pre = std::string(*pre);

  auto tokens = file.get_string_array(kTokens);
  if (!tokens) return gguf_error(tokens.error());
  v.tokens.assign(tokens->begin(), tokens->end());

  if (file.contains(kTokenType)) {
    auto types = file.get_i32_array(kTokenType);
    if (!types) return gguf_error(types.error());
    if (types->size() != v.tokens.size()) {
      return make_error(file.path() + ": " + kTokenType + " has " + std::to_string(types->size()) +
                        " entries for " + std::to_string(v.tokens.size()) + " tokens");
    }
    v.token_types.reserve(types->size());
    for (size_t i = 0; i < types->size(); ++i) {
      const int32_t t = (*types)[i];
      if (t < 1 || t > 6) {
        return make_error(file.path() + ": " + kTokenType + "[" + std::to_string(i) + "] is " + std::to_string(t) +
                          " (valid: 1..6)");
      }
      v.token_types.push_back(static_cast<TokenType>(t));
    }
  } else {
    v.token_types.assign(v.tokens.size(), TokenType::normal);
  }

  auto merges = file.get_string_array(kMerges);
  if (!merges) return gguf_error(merges.error());
  v.merges.assign(merges->begin(), merges->end());

  for (auto [key, field] : {std::pair{kBos, &v.bos_id}, {kEos, &v.eos_id}, {kEot, &v.eot_id}, {kPad, &v.pad_id},
                            {kUnk, &v.unk_id}}) {
    if (!file.contains(key)) continue;
    auto id = file.get_u32(key);
    if (!id) return gguf_error(id.error());
    if (*id >= v.tokens.size()) {
      return make_error(file.path() + ": " + key + " is " + std::to_string(*id) + " but there are only " +
                        std::to_string(v.tokens.size()) + " tokens");
    }
    *field = static_cast<int32_t>(*id);
  }
  for (auto [key, field] : {std::pair{kAddBos, &v.add_bos}, {kAddEos, &v.add_eos}}) {
    if (!file.contains(key)) continue;
    auto b = file.get_bool(key);
    if (!b) return gguf_error(b.error());
    *field = *b;
  }
  if (file.contains(kChatTemplate)) {
    auto t = file.get_string(kChatTemplate);
    if (!t) return gguf_error(t.error());
    v.chat_template = std::string(*t);
  }
  return v;
}

void write_vocab(gguf::Writer& writer, const Vocab& vocab) {
  writer.set_string(kModel, vocab.model);
  writer.set_string(kPre, vocab.pre);
  writer.set_string_array(kTokens, std::span<const std::string>(vocab.tokens));
  std::vector<int32_t> types;
  types.reserve(vocab.token_types.size());
  for (TokenType t : vocab.token_types) types.push_back(static_cast<int32_t>(t));
  writer.set_i32_array(kTokenType, types);
  writer.set_string_array(kMerges, std::span<const std::string>(vocab.merges));
  for (auto [key, id] : {std::pair{kBos, vocab.bos_id}, {kEos, vocab.eos_id}, {kEot, vocab.eot_id},
                         {kPad, vocab.pad_id}, {kUnk, vocab.unk_id}}) {
    if (id) {
      writer.set_u32(key, static_cast<uint32_t>(*id));
    } else {
      writer.remove(key);
    }
  }
  writer.set_bool(kAddBos, vocab.add_bos);
  writer.set_bool(kAddEos, vocab.add_eos);
  if (!vocab.chat_template.empty()) {
    writer.set_string(kChatTemplate, vocab.chat_template);
  } else {
    writer.remove(kChatTemplate);
  }
}

}  // namespace scout
