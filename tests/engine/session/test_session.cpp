#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "engine/session/generate.h"
#include "engine/session/session.h"
#include "tests/engine/session/tiny_models.h"

using namespace scout;
using scout::test::TinyModel;
using scout::test::tiny_model_path;

namespace {

std::shared_ptr<const Model> load(const TinyModel& spec) {
  auto model = Model::load(tiny_model_path(spec));
  INFO((model ? std::string() : model.error().message));
  REQUIRE(model);
  return *model;
}

Session session(std::shared_ptr<const Model> model, int32_t n_batch = 512, int32_t n_ctx = 256,
                KvType kv = KvType::f32, int threads = 2) {
  auto s = Session::create(std::move(model), make_cpu_ops(threads), {.n_ctx = n_ctx, .n_batch = n_batch, .kv_type = kv});
  REQUIRE(s);
  return std::move(*s);
}

std::vector<int32_t> prompt_ids(size_t n) {
  std::vector<int32_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = static_cast<int32_t>((i * 131 + 17) % 1000);
  return ids;
}

float max_abs_diff(std::span<const float> a, std::span<const float> b) {
  REQUIRE(a.size() == b.size());
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

GenerateOptions no_eos(int32_t max_tokens) {
  GenerateOptions o;
  o.max_tokens = max_tokens;
  o.stop_at_end_of_generation = false;
  return o;
}

int32_t argmax(std::span<const float> v) { return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin()); }

}  // namespace

TEST_CASE("reading a prompt in batches of 1, 7 or 64 tokens gives the same logits", "[session]") {
  for (Arch arch : {Arch::qwen3moe, Arch::qwen2}) {
    auto model = load({.arch = arch});
    const auto ids = prompt_ids(30);
    auto whole = session(model, 64);
    REQUIRE(whole.append(ids, true));
    for (int32_t batch : {1, 7}) {
      auto split = session(model, batch);
      REQUIRE(split.append(ids, true));
      for (size_t i = 0; i < ids.size(); ++i) {
        INFO(arch_name(arch) << " batch " << batch << " position " << i);
        CHECK(max_abs_diff(whole.logits_at(i), split.logits_at(i)) <= 1e-5f);
      }
    }
  }
}

TEST_CASE("the logits do not depend on the thread count", "[session]") {
  auto model = load({.arch = Arch::qwen3moe, .type = GgmlType::q8_0});
  const auto ids = prompt_ids(20);
  auto one = session(model, 512, 256, KvType::f16, 1);
  auto two = session(model, 512, 256, KvType::f16, 2);
  REQUIRE(one.append(ids, true));
  REQUIRE(two.append(ids, true));
  for (size_t i = 0; i < ids.size(); ++i) CHECK(max_abs_diff(one.logits_at(i), two.logits_at(i)) == 0.0f);
}

TEST_CASE("a session appends tokens and reports the next-token logits after the last one", "[session]") {
  auto model = load({.arch = Arch::qwen3});
  const auto ids = prompt_ids(12);
  auto all = session(model);
  REQUIRE(all.append(ids, true));
  auto stepwise = session(model);
  REQUIRE(stepwise.append(std::span(ids).first(5)));
  for (size_t i = 5; i < ids.size(); ++i) REQUIRE(stepwise.append(std::span(ids).subspan(i, 1)));
  CHECK(stepwise.n_past() == 12);
  CHECK(std::equal(stepwise.tokens().begin(), stepwise.tokens().end(), ids.begin()));
  CHECK(max_abs_diff(all.logits_at(11), stepwise.logits()) <= 1e-5f);
  CHECK(stepwise.n_evaluated() == 12);
}

TEST_CASE("truncating a session and reading other tokens equals having read those tokens", "[session]") {
  auto model = load({.arch = Arch::llama});
  const auto ids = prompt_ids(16);
  auto s = session(model);
  REQUIRE(s.append(ids));
  REQUIRE(s.truncate(10));
  CHECK(s.n_past() == 10);
  auto fresh = session(model);
  REQUIRE(fresh.append(std::span(ids).first(10)));
  CHECK(max_abs_diff(s.logits(), fresh.logits()) <= 1e-5f);  // recomputed after the kept prefix
  const std::vector<int32_t> other{5, 6, 7};
  REQUIRE(s.append(other));
  REQUIRE(fresh.append(other));
  CHECK(max_abs_diff(s.logits(), fresh.logits()) <= 1e-5f);
  CHECK_FALSE(s.truncate(14));  // beyond what it holds
  REQUIRE(s.truncate(0));
  CHECK(s.n_past() == 0);
  CHECK(s.logits().empty());
}

TEST_CASE("a fork continues independently of the session it was forked from", "[session]") {
  auto model = load({.arch = Arch::qwen3moe});
  const auto ids = prompt_ids(10);
  auto parent = session(model);
  REQUIRE(parent.append(ids));
  auto child = parent.fork();
  REQUIRE(child);
  CHECK(child->n_past() == 10);
  CHECK(max_abs_diff(parent.logits(), child->logits()) == 0.0f);
  const std::vector<int32_t> a{1, 2, 3}, b{900, 901};
  REQUIRE(child->append(a));
  REQUIRE(parent.append(b));
  auto reference_parent = session(model), reference_child = session(model);
  REQUIRE(reference_parent.append(ids));
  REQUIRE(reference_parent.append(b));
  REQUIRE(reference_child.append(ids));
  REQUIRE(reference_child.append(a));
  CHECK(max_abs_diff(parent.logits(), reference_parent.logits()) <= 1e-5f);
  CHECK(max_abs_diff(child->logits(), reference_child.logits()) <= 1e-5f);
}

TEST_CASE("tokens that do not fit the context are refused and the session is unchanged", "[session]") {
  auto model = load({.arch = Arch::qwen3});
  auto s = session(model, 512, 16);
  REQUIRE(s.append(prompt_ids(10)));
  const auto before = std::vector<float>(s.logits().begin(), s.logits().end());
  auto r = s.append(prompt_ids(7));
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("do not fit in the context") && Catch::Contains("16 positions"));
  CHECK(s.n_past() == 10);
  CHECK(max_abs_diff(s.logits(), before) == 0.0f);
  REQUIRE(s.append(prompt_ids(6)));  // exactly full
  CHECK(s.n_past() == 16);
}

TEST_CASE("token ids outside the vocabulary are refused with the id and its index", "[session]") {
  auto model = load({.arch = Arch::qwen3});
  auto s = session(model);
  const std::vector<int32_t> ids{1, 2, 999999};
  auto r = s.append(ids);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("999999") && Catch::Contains("index 2"));
  CHECK(s.n_past() == 0);
}

TEST_CASE("generation stops at a stop string and shows only the text before it", "[session]") {
  auto model = load({.arch = Arch::qwen3moe});
  const auto prompt = prompt_ids(8);
  auto sampler = Sampler::create(SamplerConfig::greedy(), static_cast<int32_t>(model->hparams().n_vocab));
  REQUIRE(sampler);
  GenerateOptions options;
  options.max_tokens = 24;
  options.stop_at_end_of_generation = false;
  auto s1 = session(model);
  auto free_run = generate(s1, prompt, *sampler, options);
  REQUIRE(free_run);
  CHECK(free_run->stop_reason == StopReason::max_tokens);
  CHECK(free_run->tokens.size() == 24);
  CHECK(s1.n_past() == 8 + 24);  // every generated token is in the session
  REQUIRE(free_run->text.size() > 12);

  // A stop string taken from the middle of what the model writes.
  const std::string stop = free_run->text.substr(free_run->text.size() / 2, 3);
  const std::string expected = free_run->text.substr(0, free_run->text.find(stop));
  options.stop_strings = {stop};
  std::string streamed;
  auto s2 = session(model);
  sampler->reset();
  auto stopped = generate(s2, prompt, *sampler, options, [&](const TokenEvent& e) {
    streamed += e.text;
    return true;
  });
  REQUIRE(stopped);
  CHECK(stopped->stop_reason == StopReason::stop_string);
  CHECK(stopped->matched_stop == stop);
  CHECK(stopped->text == expected);
  CHECK(streamed == expected);
  CHECK(stopped->tokens.size() < 24);
}

TEST_CASE("generation can be cancelled from the token callback", "[session]") {
  auto model = load({.arch = Arch::qwen3});
  auto sampler = Sampler::create(SamplerConfig::greedy(), static_cast<int32_t>(model->hparams().n_vocab));
  REQUIRE(sampler);
  auto s = session(model);
  int calls = 0;
  auto r = generate(s, prompt_ids(4), *sampler, no_eos(50),
                    [&](const TokenEvent&) { return ++calls < 5; });
  REQUIRE(r);
  CHECK(r->stop_reason == StopReason::cancelled);
  CHECK(r->tokens.size() == 5);
}

TEST_CASE("seeded sampling reproduces its tokens and greedy picks the argmax", "[session]") {
  auto model = load({.arch = Arch::qwen2});
  const int32_t n_vocab = static_cast<int32_t>(model->hparams().n_vocab);
  SamplerConfig config;
  config.seed = 1234;
  config.temperature = 1.5f;
  auto run = [&](SamplerConfig c) {
    auto sampler = Sampler::create(c, n_vocab);
    REQUIRE(sampler);
    auto s = session(model);
    auto r = generate(s, prompt_ids(6), *sampler, no_eos(12));
    REQUIRE(r);
    return r->tokens;
  };
  CHECK(run(config) == run(config));
  auto greedy = run(SamplerConfig::greedy());
  auto s = session(model);
  REQUIRE(s.append(prompt_ids(6)));
  CHECK(greedy.front() == argmax(s.logits()));
}

TEST_CASE("an F16 KV cache stays close to an F32 one", "[session]") {
  auto model = load({.arch = Arch::qwen3moe});
  const auto ids = prompt_ids(24);
  auto f32 = session(model, 512, 256, KvType::f32);
  auto f16 = session(model, 512, 256, KvType::f16);
  REQUIRE(f32.append(ids));
  REQUIRE(f16.append(ids));
  CHECK(max_abs_diff(f32.logits(), f16.logits()) < 0.05f);
  CHECK(argmax(f32.logits()) == argmax(f16.logits()));
}

TEST_CASE("forced tokens are emitted before sampling and read exactly like sampled ones", "[session]") {
  auto model = load({.arch = Arch::qwen3});
  const int32_t n_vocab = static_cast<int32_t>(model->hparams().n_vocab);
  auto sampler = Sampler::create(SamplerConfig::greedy(), n_vocab);
  REQUIRE(sampler);
  const std::vector<int32_t> forced{5, 77, 300};
  GenerateOptions options = no_eos(6);
  options.forced_tokens = forced;
  auto s = session(model);
  auto r = generate(s, prompt_ids(4), *sampler, options);
  REQUIRE(r);
  REQUIRE(r->tokens.size() == 6);
  CHECK(std::vector<int32_t>(r->tokens.begin(), r->tokens.begin() + 3) == forced);
  CHECK(s.n_past() == 10);

  // The same as reading the forced tokens as prompt and sampling greedily from there.
  auto plain = session(model);
  std::vector<int32_t> prompt = prompt_ids(4);
  prompt.insert(prompt.end(), forced.begin(), forced.end());
  auto sampler2 = Sampler::create(SamplerConfig::greedy(), n_vocab);
  auto rest = generate(plain, prompt, *sampler2, no_eos(3));
  REQUIRE(rest);
  CHECK(std::vector<int32_t>(r->tokens.begin() + 3, r->tokens.end()) == rest->tokens);
  CHECK(max_abs_diff(s.logits(), plain.logits()) == 0.0f);

  options.forced_tokens = {n_vocab};
  auto bad = generate(s, {}, *sampler, options);
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("out of range"));
}

TEST_CASE("control tokens are hidden from generated text unless asked for", "[session]") {
  auto model = load({.arch = Arch::qwen3});
  const auto im_start = model->tokenizer().find_token("<|im_start|>");
  REQUIRE(im_start);
  REQUIRE(model->tokenizer().is_control(*im_start));
  auto sampler = Sampler::create(SamplerConfig::greedy(), static_cast<int32_t>(model->hparams().n_vocab));
  GenerateOptions options = no_eos(1);
  options.forced_tokens = {*im_start};
  auto hidden_session = session(model);
  auto hidden = generate(hidden_session, prompt_ids(3), *sampler, options);
  REQUIRE(hidden);
  CHECK(hidden->text.empty());
  options.show_control_tokens = true;
  auto shown_session = session(model);
  auto shown = generate(shown_session, prompt_ids(3), *sampler, options);
  REQUIRE(shown);
  CHECK(shown->text == "<|im_start|>");
}

TEST_CASE("truncating without recomputing the logits computes nothing until the next append", "[session]") {
  auto model = load({.arch = Arch::qwen3});
  auto s = session(model);
  REQUIRE(s.append(prompt_ids(10)));
  const auto evaluated = s.n_evaluated();
  REQUIRE(s.truncate(6, /*recompute_logits=*/false));
  CHECK(s.n_evaluated() == evaluated);
  CHECK(s.logits().empty());
  CHECK(s.n_past() == 6);
  const auto more = prompt_ids(12);
  REQUIRE(s.append(std::span<const int32_t>(more).subspan(6, 2)));
  auto fresh = session(model);
  REQUIRE(fresh.append(std::span<const int32_t>(more).first(8)));
  CHECK(max_abs_diff(s.logits(), fresh.logits()) == 0.0f);
}
