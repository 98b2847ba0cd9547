#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "engine/sampling/sampler.h"

using namespace scout;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

Sampler make_sampler(SamplerConfig config, int32_t n_vocab) {
  auto s = Sampler::create(std::move(config), n_vocab);
  if (!s) FAIL(s.error().message);
  return std::move(s).value();
}

// The row is scratch for the sampler, so each call gets a copy.
int32_t draw(Sampler& s, std::vector<float> logits) {
  auto r = s.sample(logits);
  if (!r) FAIL(r.error().message);
  return *r;
}

// Plain sampling from the softmax: every truncation off.
SamplerConfig plain(float temperature, uint64_t seed = 1) {
  SamplerConfig c;
  c.temperature = temperature;
  c.top_k = 0;
  c.top_p = 1.0f;
  c.min_p = 0.0f;
  c.seed = seed;
  return c;
}

// Uniform logits in [-scale/2, scale/2). std::mt19937's output is fixed by the standard; its
// distributions are not, so the float is made here.
std::vector<float> random_logits(size_t n, uint32_t seed, float scale) {
  std::mt19937 gen(seed);
  std::vector<float> v(n);
  for (float& x : v) x = (static_cast<float>(gen() >> 8) * 0x1.0p-24f - 0.5f) * scale;
  return v;
}

std::vector<float> log_probs(const std::vector<double>& p) {
  std::vector<float> v;
  for (double x : p) v.push_back(x > 0 ? static_cast<float>(std::log(x)) : -kInf);
  return v;
}

std::map<int32_t, int> histogram(Sampler& s, const std::vector<float>& logits, int n) {
  std::map<int32_t, int> h;
  for (int i = 0; i < n; ++i) ++h[draw(s, logits)];
  return h;
}

// Tokens by decreasing logit (ties to the lower id): the reference order, by a full sort.
std::vector<int32_t> ranked(const std::vector<float>& logits) {
  std::vector<int32_t> ids(logits.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  return ids;
}

}  // namespace

TEST_CASE("greedy picks the largest logit and the lowest id among equal ones", "[sampler]") {
  auto s = make_sampler(SamplerConfig::greedy(), 6);
  CHECK(draw(s, {0.1f, 2.0f, -1.0f, 1.5f, 0.0f, 1.9f}) == 1);
  CHECK(draw(s, {0.1f, 2.0f, -1.0f, 2.0f, 0.0f, 2.0f}) == 1);
  CHECK(draw(s, {-kInf, -3.0f, -3.0f, -kInf, -7.0f, -3.0f}) == 1);
  CHECK(draw(s, {5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f}) == 0);
}

TEST_CASE("a -inf logit bias bans a token and a positive one boosts it", "[sampler]") {
  SamplerConfig c = SamplerConfig::greedy();
  c.logit_bias = {{1, -kInf}, {4, 3.0f}, {4, 0.5f}};  // entries for one id add up
  auto s = make_sampler(c, 6);
  CHECK(draw(s, {0.0f, 9.0f, 0.0f, 0.0f, 5.0f, 8.4f}) == 4);  // 5 + 3.5 = 8.5 beats 8.4
  CHECK(draw(s, {0.0f, 9.0f, 0.0f, 0.0f, 5.0f, 8.6f}) == 5);

  SamplerConfig hot = plain(5.0f);
  hot.logit_bias = {{2, -kInf}};
  auto t = make_sampler(hot, 4);
  auto h = histogram(t, {0.0f, 0.0f, 10.0f, 0.0f}, 2000);
  CHECK(h.count(2) == 0);
  CHECK(h.size() == 3);
}

TEST_CASE("repeat penalty divides positive logits and multiplies negative ones, as llama.cpp does", "[sampler]") {
  SamplerConfig c = SamplerConfig::greedy();
  c.repeat_penalty = 1.5f;
  auto s = make_sampler(c, 2);
  s.accept(0);
  // 3 / 1.5 = 2 and -2 * 1.5 = -3, exactly; the other token sits just above or below.
  CHECK(draw(s, {3.0f, 2.01f}) == 1);
  CHECK(draw(s, {3.0f, 1.99f}) == 0);
  CHECK(draw(s, {-2.0f, -2.99f}) == 1);
  CHECK(draw(s, {-2.0f, -3.01f}) == 0);
  s.accept(0);  // a repeat penalty applies once, whatever the count
  CHECK(draw(s, {3.0f, 1.99f}) == 0);
  s.reset();
  CHECK(draw(s, {3.0f, 2.01f}) == 0);
}

TEST_CASE("penalties only cover the last penalty_last_n accepted tokens", "[sampler]") {
  const std::vector<float> logits = {3.0f, 2.0f, -5.0f};
  auto pick_after_history = [&](int32_t last_n) {
    SamplerConfig c = SamplerConfig::greedy();
    c.repeat_penalty = 2.0f;
    c.penalty_last_n = last_n;
    auto s = make_sampler(c, 3);
    for (int32_t t : {0, 2, 2}) s.accept(t);
    s.accept(-1);      // outside the vocabulary: ignored
    s.accept(99);
    return draw(s, logits);  // token 0 penalised: 1.5 < 2, so token 1 wins
  };
  CHECK(pick_after_history(2) == 0);
  CHECK(pick_after_history(3) == 1);
  CHECK(pick_after_history(-1) == 1);
  CHECK(pick_after_history(0) == 0);
}

TEST_CASE("presence penalty subtracts once and frequency penalty once per appearance", "[sampler]") {
  SamplerConfig c = SamplerConfig::greedy();
  c.presence_penalty = 1.0f;
  c.frequency_penalty = 0.5f;
  auto s = make_sampler(c, 2);
  for (int i = 0; i < 3; ++i) s.accept(0);
  // 10 - (3 * 0.5 + 1) = 7.5
  CHECK(draw(s, {10.0f, 7.4f}) == 0);
  CHECK(draw(s, {10.0f, 7.6f}) == 1);

  SamplerConfig presence_only = SamplerConfig::greedy();
  presence_only.presence_penalty = 1.0f;
  auto p = make_sampler(presence_only, 2);
  for (int i = 0; i < 3; ++i) p.accept(0);
  CHECK(draw(p, {10.0f, 8.9f}) == 0);
  CHECK(draw(p, {10.0f, 9.1f}) == 1);
}

TEST_CASE("top-k of 1 picks the argmax at any temperature", "[sampler]") {
  SamplerConfig c = plain(5.0f, 7);
  c.top_k = 1;
  auto s = make_sampler(c, 500);
  auto g = make_sampler(SamplerConfig::greedy(), 500);
  for (uint32_t row = 0; row < 50; ++row) {
    const auto logits = random_logits(500, row, 4.0f);
    CHECK(draw(s, logits) == draw(g, logits));
  }
  std::vector<float> ties(500, 0.0f);
  ties[7] = ties[300] = 1.0f;
  CHECK(draw(s, ties) == 7);
}

TEST_CASE("top-p never draws a token outside the smallest set whose mass reaches p", "[sampler]") {
  // Ids shuffled against probability, and two tokens of negligible mass.
  const std::vector<double> p = {0.3, 0.05, 1e-9, 0.5, 1e-9, 0.15};
  SamplerConfig c = plain(1.0f, 3);
  c.top_p = 0.75f;  // 0.5 + 0.3 = 0.8 >= 0.75: the nucleus is {3, 0}
  auto s = make_sampler(c, 6);
  auto h = histogram(s, log_probs(p), 10000);
  CHECK(h.size() == 2);
  CHECK(h[3] + h[0] == 10000);
  CHECK(std::abs(h[3] / 10000.0 - 0.5 / 0.8) < 0.03);  // renormalised within the nucleus

  c.top_p = 0.85f;  // needs the 0.15 token as well
  auto wider = make_sampler(c, 6);
  auto hw = histogram(wider, log_probs(p), 10000);
  CHECK(hw.size() == 3);
  CHECK(hw.count(1) == 0);

  c.top_p = 0.0f;  // at least one token always stays
  auto narrowest = make_sampler(c, 6);
  CHECK(histogram(narrowest, log_probs(p), 100) == std::map<int32_t, int>{{3, 100}});
}

TEST_CASE("min-p never draws a token below min_p times the top probability", "[sampler]") {
  const std::vector<double> p = {0.3, 0.05, 0.5, 0.15};
  SamplerConfig c = plain(1.0f, 5);
  c.min_p = 0.2f;  // keeps p >= 0.1
  auto s = make_sampler(c, 4);
  auto h = histogram(s, log_probs(p), 10000);
  CHECK(h.count(1) == 0);
  CHECK(std::abs(h[3] / 10000.0 - 0.15 / 0.95) < 0.02);

  c.min_p = 1.0f;  // only the top token
  auto top = make_sampler(c, 4);
  CHECK(histogram(top, log_probs(p), 100) == std::map<int32_t, int>{{2, 100}});
}

TEST_CASE("draws follow the tempered softmax within statistical tolerance", "[sampler]") {
  const std::vector<double> p = {0.6, 0.3, 0.1};
  const int n = 100000;
  // Tolerance 0.005: at least 3 standard deviations (sqrt(0.25 / 1e5) = 0.0016) for any p.
  // The seed is fixed, so the test is deterministic; it checks the distribution, not luck.
  for (float temperature : {1.0f, 2.0f, 0.5f}) {
    CAPTURE(temperature);
    std::vector<double> expected;
    for (double x : p) expected.push_back(std::pow(x, 1.0 / temperature));
    const double sum = std::accumulate(expected.begin(), expected.end(), 0.0);
    auto s = make_sampler(plain(temperature, 11), 3);
    auto h = histogram(s, log_probs(p), n);
    for (int32_t id = 0; id < 3; ++id) {
      CAPTURE(id);
      CHECK(std::abs(h[id] / double(n) - expected[id] / sum) < 0.005);
    }
  }
}

TEST_CASE("the same seed gives the same tokens and a different seed different ones", "[sampler]") {
  const auto logits = random_logits(1000, 1, 6.0f);
  auto sequence = [&](Sampler& s) {
    std::vector<int32_t> out;
    for (int i = 0; i < 64; ++i) {
      out.push_back(draw(s, logits));
      s.accept(out.back());
    }
    return out;
  };
  SamplerConfig c;
  c.repeat_penalty = 1.1f;
  c.seed = 42;
  auto a = make_sampler(c, 1000);
  auto b = make_sampler(c, 1000);
  const auto first = sequence(a);
  CHECK(sequence(b) == first);
  a.reset();
  CHECK(sequence(a) == first);
  c.seed = 43;
  auto other = make_sampler(c, 1000);
  CHECK(sequence(other) != first);
}

TEST_CASE("a fixed seed gives the recorded tokens on every platform", "[sampler]") {
  // Recorded once; any change here means the generator, the exponential or the order of
  // operations changed, and with it every seeded run users may have kept.
  const auto logits = random_logits(151936, 2024, 12.0f);
  SamplerConfig c;  // the defaults: top-k 40, top-p 0.95, min-p 0.05, temperature 0.8
  c.seed = 1234;
  c.repeat_penalty = 1.1f;
  auto s = make_sampler(c, 151936);
  std::vector<int32_t> got;
  for (int i = 0; i < 12; ++i) {
    got.push_back(draw(s, logits));
    s.accept(got.back());
  }
  const std::vector<int32_t> recorded = {102701, 43706, 53187, 59402, 4266, 134381,
                                         61509, 118727, 139154, 72962, 85735, 100427};
  CHECK(got == recorded);

  auto no_truncation = make_sampler(plain(1.0f, 99), 151936);
  std::vector<int32_t> got_plain;
  for (int i = 0; i < 8; ++i) got_plain.push_back(draw(no_truncation, logits));
  const std::vector<int32_t> recorded_plain = {52710, 85209, 57197, 130357, 119588, 30945, 41981, 8782};
  CHECK(got_plain == recorded_plain);
}

TEST_CASE("truncation on a full-size vocabulary keeps what a full sort keeps", "[sampler]") {
  const int32_t n_vocab = 151936;
  const auto logits = random_logits(n_vocab, 77, 16.0f);
  const auto order = ranked(logits);

  SECTION("top-k") {
    SamplerConfig c = plain(1.5f, 8);
    c.top_k = 50;
    auto s = make_sampler(c, n_vocab);
    const std::set<int32_t> allowed(order.begin(), order.begin() + 50);
    auto h = histogram(s, logits, 1000);
    for (const auto& [id, count] : h) CHECK(allowed.count(id) == 1);
    CHECK(h.size() > 25);
  }
  SECTION("top-p without top-k") {
    SamplerConfig c = plain(1.0f, 9);
    c.top_p = 0.9f;
    auto s = make_sampler(c, n_vocab);
    // The reference nucleus with libm's exp; allow a few tokens of slack at its edge, where a
    // last-bit difference in the exponential could move the cut.
    std::vector<double> w;
    for (int32_t id : order) w.push_back(std::exp(double(logits[id]) - double(logits[order[0]])));
    const double total = std::accumulate(w.begin(), w.end(), 0.0);
    size_t nucleus = 0;
    for (double cum = 0; cum < 0.9 * total; ++nucleus) cum += w[nucleus];
    const std::set<int32_t> allowed(order.begin(), order.begin() + nucleus + 3);
    auto h = histogram(s, logits, 100);
    for (const auto& [id, count] : h) CHECK(allowed.count(id) == 1);
    CHECK(h.size() > 50);
  }
  SECTION("top-p whose nucleus reaches far below the top token, ties to the lower id") {
    // One token at 0 and the rest tied at -8: the nucleus is the top token and then tied
    // tokens in id order until half the mass (e^-8 each; ~74.5k of them), so it needs
    // the lower-probability bands of the search.
    std::vector<float> tied(n_vocab, -8.0f);
    tied[5000] = 0.0f;
    SamplerConfig c = plain(1.0f, 12);
    c.top_p = 0.5f;
    auto s = make_sampler(c, n_vocab);
    const double tail = std::exp(-8.0);
    const double target = 0.5 * (1.0 + (n_vocab - 1) * tail);
    const auto last_id = static_cast<int32_t>((target - 1.0) / tail);  // one more for the skipped 5000
    auto h = histogram(s, tied, 100);
    CHECK(h.rbegin()->first <= last_id + 2);
    CHECK(h.rbegin()->first > last_id * 8 / 10);
  }
  SECTION("min-p without top-k") {
    SamplerConfig c = plain(2.0f, 10);
    c.min_p = 0.01f;  // keeps logits within 2 * ln(100) = 9.2 of the top
    auto s = make_sampler(c, n_vocab);
    auto h = histogram(s, logits, 200);
    for (const auto& [id, count] : h) CHECK(logits[id] >= logits[order[0]] - 9.22f);
    CHECK(h.size() > 100);
  }
}

TEST_CASE("invalid configs are rejected with a message naming the field", "[sampler]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<std::pair<std::function<void(SamplerConfig&)>, std::string>> cases = {
      {[&](SamplerConfig& c) { c.temperature = nan; }, "temperature"},
      {[&](SamplerConfig& c) { c.temperature = kInf; }, "temperature"},
      {[&](SamplerConfig& c) { c.top_p = -0.5f; }, "top_p is -0.5; it must be >= 0"},
      {[&](SamplerConfig& c) { c.top_p = nan; }, "top_p"},
      {[&](SamplerConfig& c) { c.min_p = 1.5f; }, "min_p is 1.5; it must be <= 1"},
      {[&](SamplerConfig& c) { c.repeat_penalty = 0.0f; }, "repeat_penalty"},
      {[&](SamplerConfig& c) { c.repeat_penalty = -1.0f; }, "repeat_penalty"},
      {[&](SamplerConfig& c) { c.presence_penalty = nan; }, "presence_penalty"},
      {[&](SamplerConfig& c) { c.frequency_penalty = kInf; }, "frequency_penalty"},
      {[&](SamplerConfig& c) { c.penalty_last_n = -2; }, "penalty_last_n is -2"},
      {[&](SamplerConfig& c) { c.logit_bias = {{0, 1.0f}, {10, 1.0f}}; }, "logit_bias[1] names token 10"},
      {[&](SamplerConfig& c) { c.logit_bias = {{-1, 1.0f}}; }, "token -1"},
      {[&](SamplerConfig& c) { c.logit_bias = {{3, nan}}; }, "logit_bias[0] gives token 3"},
      {[&](SamplerConfig& c) { c.logit_bias = {{3, kInf}}; }, "-inf to ban"},
  };
  for (const auto& [mutate, message] : cases) {
    SamplerConfig c;
    mutate(c);
    auto s = Sampler::create(c, 10);
    REQUIRE_FALSE(s);
    CHECK_THAT(s.error().message, Catch::Contains(message) && Catch::StartsWith("sampler: "));
  }
  auto empty = Sampler::create(SamplerConfig{}, 0);
  REQUIRE_FALSE(empty);
  CHECK_THAT(empty.error().message, Catch::Contains("n_vocab"));

  // The documented "off" values are accepted.
  SamplerConfig off;
  off.temperature = -1.0f;
  off.top_k = -5;
  off.top_p = 2.0f;
  off.min_p = -1.0f;
  off.penalty_last_n = -1;
  off.logit_bias = {{9, -kInf}};
  CHECK(Sampler::create(off, 10));
}

TEST_CASE("sampling is an error when every token is banned", "[sampler]") {
  for (SamplerConfig c : {SamplerConfig::greedy(), SamplerConfig{}, plain(1.0f)}) {
    for (int32_t id = 0; id < 4; ++id) c.logit_bias.push_back({id, -kInf});
    auto s = make_sampler(c, 4);
    std::vector<float> logits = {1.0f, 2.0f, 3.0f, 4.0f};
    auto r = s.sample(logits);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("no token can be sampled") && Catch::Contains("4 logit_bias"));
  }
  // The same when the model itself gives -inf everywhere.
  auto s = make_sampler(SamplerConfig{}, 3);
  std::vector<float> logits = {-kInf, -kInf, -kInf};
  CHECK_FALSE(s.sample(logits));
}

TEST_CASE("a NaN or +inf logit and a row of the wrong length are errors", "[sampler]") {
  auto s = make_sampler(SamplerConfig{}, 3);
  std::vector<float> nan_row = {0.0f, std::numeric_limits<float>::quiet_NaN(), 1.0f};
  auto r = s.sample(nan_row);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("token 1 is nan"));
  std::vector<float> inf_row = {0.0f, 1.0f, kInf};
  CHECK_FALSE(s.sample(inf_row));
  std::vector<float> short_row = {0.0f, 1.0f};
  auto w = s.sample(short_row);
  REQUIRE_FALSE(w);
  CHECK_THAT(w.error().message, Catch::Contains("2 values") && Catch::Contains("3 tokens"));
}
