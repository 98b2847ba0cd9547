// Tokenizer behaviour on small hand-made vocabularies: BPE merge order, added tokens, bos/eos,
// validation errors, ill-formed UTF-8, and the streaming decoder.
#include <catch2/catch.hpp>
#include <random>

#include "engine/tokenizer/bpe.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/unicode.h"
#include "tests/engine/tokenizer/tokenizer_test_util.h"

namespace scout {
namespace {

using test::make_vocab;

Tokenizer make(Vocab v) {
  auto t = Tokenizer::create(std::move(v));
  if (!t) FAIL(t.error().message);
  return std::move(*t);
}

int32_t id_of(const Tokenizer& t, const std::string& text) {
  auto id = t.find_token(text);
  if (!id) FAIL("no token " << text);
  return *id;
}

std::string error_of(Vocab v) {
  auto t = Tokenizer::create(std::move(v));
  REQUIRE_FALSE(t.has_value());
  return t.error().message;
}

const std::vector<std::string> kHelloMerges = {"h e", "l l", "he ll", "hell o", "\xC4\xA0 w", "\xC4\xA0w o",
                                               "r l", "\xC4\xA0wo rl", "\xC4\xA0worl d"};

TEST_CASE("BPE applies merges by rank and turns words into their tokens", "[tokenizer]") {
  const Tokenizer t = make(make_vocab("qwen2", kHelloMerges));
  CHECK(t.encode("hello world", false, false) ==
        std::vector<int32_t>{id_of(t, "hello"), id_of(t, "\xC4\xA0world")});
  CHECK(t.decode(t.encode("hello world", false, false)) == "hello world");
  CHECK(t.encode("held", false, false) == std::vector<int32_t>{id_of(t, "he"), 'l', 'd'});
}

TEST_CASE("BPE merges the lowest rank first and the leftmost pair among equals", "[tokenizer]") {
  // "b c" outranks "a b": in "abc" the b goes right.
  const Tokenizer t1 = make(make_vocab("qwen2", {"b c", "a b"}));
  CHECK(t1.encode("abc", false, false) == std::vector<int32_t>{'a', id_of(t1, "bc")});
  // One merge "a a": "aaa" is "aa" + "a", not "a" + "aa".
  const Tokenizer t2 = make(make_vocab("qwen2", {"a a"}));
  CHECK(t2.encode("aaa", false, false) == std::vector<int32_t>{id_of(t2, "aa"), 'a'});
  CHECK(t2.encode("aaaaa", false, false) == std::vector<int32_t>{id_of(t2, "aa"), id_of(t2, "aa"), 'a'});
}

TEST_CASE("the scan and heap BPE loops give the same merges on random input", "[tokenizer]") {
  std::mt19937 rng(5);
  for (int round = 0; round < 200; ++round) {
    // Random merges over ids 0..7 producing fresh ids, with random ranks.
    const int n_merges = 1 + static_cast<int>(rng() % 40);
    detail::MergeTable table(static_cast<size_t>(n_merges));
    int32_t next_id = 8;
    std::vector<int32_t> alphabet = {0, 1, 2, 3, 4, 5, 6, 7};
    for (int m = 0; m < n_merges; ++m) {
      const int32_t l = alphabet[rng() % alphabet.size()], r = alphabet[rng() % alphabet.size()];
      if (table.insert(l, r, static_cast<int32_t>(rng() % 1000), next_id)) alphabet.push_back(next_id++);
    }
    std::vector<int32_t> symbols(1 + rng() % 200);
    for (auto& s : symbols) s = static_cast<int32_t>(rng() % 8);
    auto a = symbols, b = symbols;
    detail::bpe_merge_scan(table, a);
    detail::bpe_merge_heap(table, b);
    INFO("round " << round);
    REQUIRE(a == b);
  }
}

TEST_CASE("long pieces use the heap loop and still decode exactly", "[tokenizer]") {
  const Tokenizer t = make(make_vocab("llama-bpe", {"a a", "aa aa", "aaaa aaaa", "\xC4\xA0 \xC4\xA0"}));
  const std::string long_word(5000, 'a');
  const auto ids = t.encode(long_word, false, false);
  CHECK(ids.size() == 5000 / 8);
  CHECK(t.decode(ids) == long_word);
  const std::string spaces(3001, ' ');
  CHECK(t.decode(t.encode(spaces + "x", false, false)) == spaces + "x");
}

TEST_CASE("control tokens are recognised only with parse_special, user-defined ones always", "[tokenizer]") {
  const Tokenizer t = make(make_vocab("qwen2", kHelloMerges,
                                      {{"<|ctl|>", TokenType::control}, {"<think>", TokenType::user_defined}}));
  const int32_t ctl = id_of(t, "<|ctl|>"), think = id_of(t, "<think>");
  const auto with = t.encode("<|ctl|>hello<think>", false, true);
  CHECK(with == std::vector<int32_t>{ctl, id_of(t, "hello"), think});
  const auto without = t.encode("<|ctl|>hello<think>", false, false);
  CHECK(without.back() == think);
  CHECK(std::find(without.begin(), without.end(), ctl) == without.end());
  CHECK(t.decode(without) == "<|ctl|>hello<think>");
  CHECK(t.decode(with) == "<|ctl|>hello<think>");
  CHECK(t.is_control(ctl));
  CHECK_FALSE(t.is_control(think));
}

TEST_CASE("added tokens match leftmost, then longest", "[tokenizer]") {
  const Tokenizer t = make(make_vocab("qwen2", {}, {{"<a>", TokenType::user_defined},
                                                    {"<a><b>", TokenType::user_defined},
                                                    {"b><c", TokenType::user_defined}}));
  CHECK(t.encode("<a><b><c", false, true) == std::vector<int32_t>{id_of(t, "<a><b>"), '<', 'c'});
  CHECK(t.encode("x<a>b><c", false, true) == std::vector<int32_t>{'x', id_of(t, "<a>"), id_of(t, "b><c")});
}

TEST_CASE("lstrip and rstrip added tokens absorb the whitespace beside them", "[tokenizer]") {
  Vocab v = make_vocab("qwen2", {}, {{"<L>", TokenType::user_defined}, {"<R>", TokenType::user_defined}});
  v.added_flags.assign(v.tokens.size(), 0);
  v.added_flags[v.tokens.size() - 2] = kAddedLstrip;
  v.added_flags[v.tokens.size() - 1] = kAddedRstrip;
  const Tokenizer t = make(std::move(v));
  const int32_t l = id_of(t, "<L>"), r = id_of(t, "<R>");
  CHECK(t.encode("x \t <L> y", false, true) == std::vector<int32_t>{'x', l, ' ', 'y'});
  CHECK(t.encode("x <R> \n y", false, true) == std::vector<int32_t>{'x', ' ', r, 'y'});
}

TEST_CASE("bos and eos are added as the vocabulary says", "[tokenizer]") {
  Vocab v = make_vocab("llama-bpe", {}, {{"<s>", TokenType::control}, {"</s>", TokenType::control}});
  v.bos_id = static_cast<int32_t>(v.tokens.size() - 2);
  v.eos_id = static_cast<int32_t>(v.tokens.size() - 1);
  v.add_bos = true;
  v.add_eos = false;
  Tokenizer t = make(v);
  CHECK(t.encode("a", true, false) == std::vector<int32_t>{*v.bos_id, 'a'});
  CHECK(t.encode("a", false, false) == std::vector<int32_t>{'a'});
  v.add_bos = false;
  v.add_eos = true;
  t = make(v);
  CHECK(t.encode("a", true, false) == std::vector<int32_t>{'a', *v.eos_id});
  CHECK(t.encode("", true, false) == std::vector<int32_t>{*v.eos_id});
}

TEST_CASE("qwen2 normalizes to NFC before splitting, llama-bpe does not", "[tokenizer]") {
  const std::string composed = "caf\xC3\xA9", decomposed = "cafe\xCC\x81";
  const Tokenizer q = make(make_vocab("qwen2", {}));
  CHECK(q.encode(decomposed, false, false) == q.encode(composed, false, false));
  CHECK(q.decode(q.encode(decomposed, false, false)) == composed);
  const Tokenizer l = make(make_vocab("llama-bpe", {}));
  CHECK(l.decode(l.encode(decomposed, false, false)) == decomposed);
}

TEST_CASE("ill-formed UTF-8 is encoded byte for byte and decodes back unchanged", "[tokenizer]") {
  std::mt19937 rng(11);
  const Tokenizer synthetic = make(make_vocab("deepseek-v3", kHelloMerges));
  std::vector<const Tokenizer*> toks = {&synthetic};
  for (const auto& name : test::kVocabNames) toks.push_back(&test::real_tokenizer(name));
  for (int i = 0; i < 500; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng() % 4 == 0 ? 0x80 + rng() % 0x80 : rng() % 256);
    for (const Tokenizer* t : toks) {
      const bool nfc = t->vocab().pre == "qwen2";
      const std::string expected = nfc ? unicode::nfc(bytes) : bytes;
      INFO(t->vocab().pre << " case " << i);
      REQUIRE(t->decode(t->encode(bytes, false, false)) == expected);
    }
  }
}

TEST_CASE("decode skips unused tokens and ids outside the vocabulary", "[tokenizer]") {
  Vocab v = make_vocab("qwen2", {}, {{"<ctl>", TokenType::control}});
  v.tokens.push_back("[PAD999]");
  v.token_types.push_back(TokenType::unused);
  const Tokenizer t = make(v);
  const int32_t pad = static_cast<int32_t>(v.tokens.size() - 1);
  const std::vector<int32_t> ids = {'a', pad, -1, 1 << 30, id_of(t, "<ctl>"), 'b'};
  CHECK(t.decode(ids) == "a<ctl>b");
  CHECK(t.token_to_piece(pad).empty());
  CHECK(t.token_to_piece(0x0A) == "\n");
}

TEST_CASE("invalid vocabularies are refused with a message naming the problem", "[tokenizer]") {
  SECTION("a merge whose part is not a token") {
    Vocab v = make_vocab("qwen2", {"h e"});
    v.merges.push_back("he zz");
    const std::string e = error_of(v);
    CHECK_THAT(e, Catch::Contains("merge 1") && Catch::Contains("'zz' is not a token"));
  }
  SECTION("a merge whose result is not a token") {
    Vocab v = make_vocab("qwen2", {});
    v.merges.push_back("x y");
    CHECK_THAT(error_of(v), Catch::Contains("merge 0") && Catch::Contains("merged 'xy'"));
  }
  SECTION("a merge that is not two parts") {
    Vocab v = make_vocab("qwen2", {});
    v.merges.push_back("xy");
    CHECK_THAT(error_of(v), Catch::Contains("merge 0") && Catch::Contains("two parts"));
  }
  SECTION("a byte with no token") {
    Vocab v = make_vocab("qwen2", {});
    v.tokens[0x41] = "AA";
    CHECK_THAT(error_of(v), Catch::Contains("byte 65"));
  }
  SECTION("two normal tokens for the same bytes") {
    Vocab v = make_vocab("qwen2", {"a b"});
    v.tokens.push_back("ab");
    v.token_types.push_back(TokenType::normal);
    CHECK_THAT(error_of(v), Catch::Contains("tokens 256 and 257"));
  }
  SECTION("two added tokens with the same text") {
    Vocab v = make_vocab("qwen2", {}, {{"<x>", TokenType::control}, {"<x>", TokenType::user_defined}});
    CHECK_THAT(error_of(v), Catch::Contains("added tokens 256 and 257"));
  }
  SECTION("a special id outside the vocabulary") {
    Vocab v = make_vocab("qwen2", {});
    v.eos_id = 256;
    CHECK_THAT(error_of(v), Catch::Contains("eos token id 256"));
  }
  SECTION("an unknown pre-tokenizer or model") {
    Vocab v = make_vocab("gpt-4o", {});
    CHECK_THAT(error_of(v), Catch::Contains("gpt-4o"));
    v = make_vocab("qwen2", {});
    v.model = "llama";
    CHECK_THAT(error_of(v), Catch::Contains("'llama'"));
  }
  SECTION("token types that do not match the tokens") {
    Vocab v = make_vocab("qwen2", {});
    v.token_types.pop_back();
    CHECK_THAT(error_of(v), Catch::Contains("256 tokens but 255 token types"));
    v = make_vocab("qwen2", {});
    v.token_types[7] = static_cast<TokenType>(9);
    CHECK_THAT(error_of(v), Catch::Contains("token 7") && Catch::Contains("type 9"));
  }
}

TEST_CASE("the streaming decoder never splits a UTF-8 character across chunks", "[tokenizer]") {
  // With bytes-only tokens every multi-byte character spans several tokens.
  const Tokenizer t = make(make_vocab("qwen2", {}));
  const std::string text = "h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9 \xE4\xB8\xAD!";
  const auto ids = t.encode(text, false, false);
  REQUIRE(ids.size() == text.size());
  StreamingDecoder dec(t);
  std::string joined;
  for (int32_t id : ids) {
    const std::string chunk = dec.push(id);
    CHECK(unicode::is_valid_utf8(chunk));
    CHECK(dec.pending() <= 3);
    joined += chunk;
  }
  joined += dec.flush();
  CHECK(joined == text);
  CHECK(dec.pending() == 0);
}

TEST_CASE("the streaming decoder holds back only bytes that can still complete", "[tokenizer]") {
  const Tokenizer t = make(make_vocab("qwen2", {}));
  StreamingDecoder dec(t);
  CHECK(dec.push(0xE2) == "");
  CHECK(dec.push(0x82) == "");
  CHECK(dec.push(0xAC) == "\xE2\x82\xAC");
  CHECK(dec.push(0xFF) == "\xFF");                     // never valid: out at once
  CHECK(dec.push(0xE2) == "");
  CHECK(dec.push('a') == "\xE2" "a");                  // the lead can no longer complete
  CHECK(dec.push(0xED) == "");
  CHECK(dec.push(0xA0) == "\xED\xA0");                 // a surrogate: hopeless
  CHECK(dec.push(0xF0) == "");
  CHECK(dec.flush() == "\xF0");                        // end of stream: what is left
}

TEST_CASE("the streaming decoder's chunks always add up to decode() on real vocabularies", "[tokenizer]") {
  const std::string text = "Emoji 👨‍👩‍👧‍👦 🇯🇵 and 中文, Ελληνικά, हिन्दी; bytes \xFF\xC3 end";
  for (const auto& name : test::kVocabNames) {
    const Tokenizer& t = test::real_tokenizer(name);
    const auto ids = t.encode(text, false, false);
    StreamingDecoder dec(t);
    std::string joined;
    for (int32_t id : ids) joined += dec.push(id);
    joined += dec.flush();
    CHECK(joined == t.decode(ids));
  }
}

// Encodes `text` cut at every safe point piece_cut finds (searching from the end each time,
// the way a reader of a long line does) and returns the joined ids.
std::vector<int32_t> encode_in_pieces(const Tokenizer& t, std::string_view text, bool parse_special) {
  std::vector<std::string_view> pieces;
  while (const std::size_t cut = t.piece_cut(text)) {
    pieces.insert(pieces.begin(), text.substr(cut));
    text = text.substr(0, cut);
  }
  pieces.insert(pieces.begin(), text);
  std::vector<int32_t> ids;
  for (std::string_view piece : pieces) {
    const auto part = t.encode(piece, false, parse_special);
    ids.insert(ids.end(), part.begin(), part.end());
  }
  return ids;
}

TEST_CASE("a text cut where piece_cut says encodes to the ids of the whole, on every real vocabulary and corpus file",
          "[tokenizer]") {
  for (const auto& name : test::kVocabNames) {
    const Tokenizer& t = test::real_tokenizer(name);
    std::size_t cuts = 0;
    for (const auto& file : test::corpus()) {
      INFO(name << " " << file.name);
      for (const bool parse_special : {false, true}) {
        CHECK(encode_in_pieces(t, file.text, parse_special) == t.encode(file.text, false, parse_special));
      }
      for (std::string_view rest = file.text; const std::size_t cut = t.piece_cut(rest); rest = rest.substr(0, cut)) ++cuts;
    }
    CHECK(cuts > 1000);  // the corpus has many places to cut: the property is tested, not skipped
    for (const std::string& text : test::random_tricky_strings(7, 300, 200, false)) {
      CHECK(encode_in_pieces(t, text, true) == t.encode(text, false, true));
    }
  }
}

TEST_CASE("piece_cut never cuts where an added token could span the cut or absorb whitespace", "[tokenizer]") {
  const Tokenizer spaced =
      Tokenizer::create(test::make_vocab("qwen2", {}, {{"<a b>", TokenType::user_defined}})).value();
  CHECK(spaced.piece_cut("one two three four") == 0);
  Vocab stripping = test::make_vocab("qwen2", {}, {{"<mask>", TokenType::user_defined}});
  stripping.added_flags.assign(stripping.tokens.size(), 0);
  stripping.added_flags.back() = kAddedLstrip;
  CHECK(Tokenizer::create(std::move(stripping)).value().piece_cut("one two three four") == 0);
  const Tokenizer plain = Tokenizer::create(test::make_vocab("qwen2", {})).value();
  CHECK(plain.piece_cut("one two three four") == std::string("one two three").size());
  CHECK(plain.piece_cut("one  two") == 0);   // a space after a space: \s+(?!\S) would join them
  CHECK(plain.piece_cut("one 2") == 0);      // only before a letter
  CHECK(plain.piece_cut("caf\xc3\xa9 x") == 0);  // only after a visible ASCII character
}

}  // namespace
}  // namespace scout
