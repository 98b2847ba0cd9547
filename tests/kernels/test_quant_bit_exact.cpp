// Bit-exactness against llama.cpp as a black box. The peer program quant_reference
// (tests/reference/quant_reference: harness.c linked with llama.cpp's ggml-base) quantizes and
// dequantizes through ggml's own functions; Scout must produce the same bytes and the same
// float bits. No tolerance: one differing bit fails.
//
// The llama.cpp source comes from $SCOUT_LLAMA_CPP_SRC, else from scripts/peer-llama-cpp-src.sh
// (which clones the git bundle npm installed). Without it these tests fail, on purpose.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/cpu/quant_blocks.h"
#include "kernels/cpu/quants.h"
#include "tests/kernels/quant_test_util.h"

using namespace scout;
using namespace scout::test;
namespace fs = std::filesystem;

namespace {

const fs::path& peer_dir() {
  static const fs::path dir = fs::path(SCOUT_BINARY_DIR) / "peers" / "quant_reference";
  return dir;
}

// Builds the peer once per process (build.sh is an up-to-date check after the first build and
// serialises concurrent builds with a lock). Returns the binary, or "" with *log_out set.
std::string peer_binary(std::string* log_out) {
  static std::string binary;
  static std::string log;
  static bool tried = false;
  if (!tried) {
    tried = true;
    fs::create_directories(peer_dir());
    const fs::path log_path = peer_dir() / ("test-build-" + std::to_string(getpid()) + ".log");
    const std::string cmd = "bash '" + std::string(SCOUT_SOURCE_DIR) + "/tests/reference/quant_reference/build.sh' '" +
                            peer_dir().string() + "' > '" + log_path.string() + "' 2>&1";
    const int rc = std::system(cmd.c_str());
    std::ifstream in(log_path);
    log.assign(std::istreambuf_iterator<char>(in), {});
    if (log.size() > 4000) log = "...\n" + log.substr(log.size() - 4000);  // the error is at the end
    fs::remove(log_path);
    if (rc == 0 && fs::exists(peer_dir() / "quant_reference")) binary = (peer_dir() / "quant_reference").string();
  }
  *log_out = log;
  return binary;
}

std::vector<uint8_t> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// Runs `quant_reference MODE TYPE < input > output` and returns the output bytes.
std::vector<uint8_t> run_peer(const std::string& mode, GgmlType type, const void* input, size_t size) {
  std::string log;
  const std::string binary = peer_binary(&log);
  if (binary.empty())
    FAIL("the llama.cpp peer quant_reference could not be built; run scripts/setup.sh (it installs the "
         "llama.cpp source bundle) or set SCOUT_LLAMA_CPP_SRC to a llama.cpp checkout. Build log:\n"
         << log);
  static int counter = 0;
  const std::string stem = "io-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  const fs::path in_path = peer_dir() / (stem + ".in");
  const fs::path out_path = peer_dir() / (stem + ".out");
  const fs::path err_path = peer_dir() / (stem + ".err");
  {
    std::ofstream out(in_path, std::ios::binary);
    out.write(static_cast<const char*>(input), static_cast<std::streamsize>(size));
  }
  const std::string cmd = "'" + binary + "' " + mode + " " + type_name(type) + " < '" + in_path.string() + "' > '" +
                          out_path.string() + "' 2> '" + err_path.string() + "'";
  const int rc = std::system(cmd.c_str());
  std::vector<uint8_t> result = read_file(out_path);
  const std::vector<uint8_t> err = read_file(err_path);
  fs::remove(in_path);
  fs::remove(out_path);
  fs::remove(err_path);
  INFO("quant_reference " << mode << " " << type_name(type) << ": " << std::string(err.begin(), err.end()));
  REQUIRE(rc == 0);
  return result;
}

// Named runs of floats, each a whole number of 256-element super-blocks.
struct Segment {
  std::string name;
  std::vector<float> values;
};

std::vector<Segment> quantizer_inputs() {
  constexpr size_t kSuper = kQK_K;
  std::vector<Segment> s;
  std::mt19937 rng(2024);
  const auto add = [&](std::string name, std::vector<float> v) { s.push_back({std::move(name), std::move(v)}); };

  add("gaussian", gaussian(8 * kSuper, 1));
  // Many blocks: the scale searches compare float sums, and only a large sample reaches the
  // rare near-ties where evaluation order decides which candidate wins.
  add("gaussian, many blocks", gaussian(512 * kSuper, 12));
  {
    std::student_t_distribution<float> heavy(3.0f);
    std::vector<float> v(128 * kSuper);
    for (auto& x : v) x = heavy(rng);
    add("heavy-tailed (Student t, 3 degrees of freedom)", std::move(v));
  }
  add("gaussian, weight-like scale 0.02", gaussian(4 * kSuper, 2, 0.02f));
  {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> v(4 * kSuper);
    for (auto& x : v) x = u(rng);
    add("uniform [-1, 1]", std::move(v));
  }
  add("all zero", std::vector<float>(2 * kSuper, 0.0f));
  {
    auto v = gaussian(2 * kSuper, 3);
    for (size_t i = 0; i < v.size(); ++i)
      if ((i / 32) % 3 == 1 || (i / 16) % 5 == 4) v[i] = 0.0f;  // zero 32- and 16-element groups
    add("zero sub-blocks among gaussian ones", std::move(v));
  }
  {
    auto v = gaussian(4 * kSuper, 4);
    for (size_t b = 0; b < v.size() / 32; ++b) v[b * 32 + (b * 7) % 32] = (b % 2 ? -1.0f : 1.0f) * 1.0e4f;
    add("one huge outlier per 32 elements", std::move(v));
  }
  {
    auto v = gaussian(2 * kSuper, 5, 0.1f);
    v[77] = 3.0e4f;
    v[kSuper + 200] = -3.0e4f;
    add("one huge outlier per super-block", std::move(v));
  }
  add("tiny values around 1e-30 (scales underflow fp16)", gaussian(2 * kSuper, 6, 1e-30f));
  add("small values around 1e-6 (fp16 subnormal scales)", gaussian(2 * kSuper, 7, 1e-6f));
  {
    auto v = gaussian(2 * kSuper, 8);
    for (auto& x : v) x = -std::fabs(x);
    add("negative only", std::move(v));
  }
  {
    auto v = gaussian(2 * kSuper, 9);
    for (auto& x : v) x = std::fabs(x) + 0.5f;
    add("positive only, away from zero", std::move(v));
  }
  {
    std::vector<float> v(2 * kSuper);
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(static_cast<int>(i * 7 % 16) - 8);
    add("integers -8..7 (exactly representable in Q4_0)", std::move(v));
  }
  {
    std::vector<float> v(2 * kSuper);
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(static_cast<int>(i * 13 % 3) - 1);
    add("values -1, 0, 1", std::move(v));
  }
  {
    // Each 32-block holds 127 and then k + 0.5: Q8_0's d is exactly 1, so every x * id is a tie
    // where roundf (away from zero) and nearest_int (to even) disagree.
    std::vector<float> v(kSuper);
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = i % 32 == 0 ? 127.0f : static_cast<float>(static_cast<int>(i % 32) * 4 - 64) + 0.5f;
    add("rounding ties", std::move(v));
  }
  add("large values around 2e4 (some beyond fp16 range)", gaussian(2 * kSuper, 10, 2e4f));
  {
    std::vector<float> v(2 * kSuper, 0.0f);
    for (size_t i = 0; i < v.size(); i += 41) v[i] = (i % 2 ? -0.75f : 1.25f) * static_cast<float>(i % 7 + 1);
    add("sparse", std::move(v));
  }
  {
    std::vector<float> v(2 * kSuper);
    for (size_t i = 0; i < v.size(); ++i) v[i] = i < kSuper ? 0.5f : -0.5f;
    add("constant positive, then constant negative", std::move(v));
  }
  {
    std::vector<float> v(2 * kSuper);
    for (size_t i = 0; i < v.size(); ++i) v[i] = -1.0f + 2.0f * static_cast<float>(i) / static_cast<float>(v.size());
    add("ramp", std::move(v));
  }
  return s;
}

// Values only the plain float types may see (quantizers have undefined behaviour on NaN/inf).
Segment float_specials() {
  std::vector<uint32_t> bits = {
      0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF812345,
      0x7FFFFFFF, 0x00000001, 0x807FFFFF, 0x00400000, 0x33000000, 0x33000001, 0x33800000, 0x387FE000,
      0x38800000, 0x477FE000, 0x477FEFFF, 0x477FF000, 0x7F7FFFFF, 0x3F801000, 0x3F803000, 0x3F808000,
      0x3F818000, 0x00008000, 0x00018000, 0x7F7F7FFF,
  };
  std::mt19937 rng(99);
  while (bits.size() % kQK_K != 0) bits.push_back(static_cast<uint32_t>(rng()));  // random patterns, NaNs included
  Segment s{"special floats and random bit patterns", {}};
  for (uint32_t b : bits) s.values.push_back(fp32_from_bits(b));
  return s;
}

// Points at the first differing block (and the input segment it came from).
std::string describe_mismatch(GgmlType type, const std::vector<Segment>& segments, const std::vector<uint8_t>& ours,
                              const std::vector<uint8_t>& theirs) {
  const auto& t = ggml_type_traits(type);
  std::ostringstream out;
  for (size_t i = 0; i < std::min(ours.size(), theirs.size()); ++i) {
    if (ours[i] == theirs[i]) continue;
    const size_t block = i / t.type_size;
    size_t element = block * t.block_size;
    std::string segment = "?";
    for (const auto& s : segments) {
      if (element < s.values.size()) {
        segment = s.name;
        break;
      }
      element -= s.values.size();
    }
    out << type_name(type) << ": first difference at byte " << i << " (block " << block << ", input \"" << segment
        << "\" element " << element << "); ours vs llama.cpp for the block:\n";
    char hex[4];
    for (const auto* bytes : {&ours, &theirs}) {
      for (size_t k = block * t.type_size; k < (block + 1) * t.type_size && k < bytes->size(); ++k) {
        std::snprintf(hex, sizeof hex, "%02x", (*bytes)[k]);
        out << hex;
      }
      out << "\n";
    }
    return out.str();
  }
  out << "sizes differ: " << ours.size() << " vs " << theirs.size();
  return out.str();
}

std::vector<float> concat(const std::vector<Segment>& segments) {
  std::vector<float> all;
  for (const auto& s : segments) all.insert(all.end(), s.values.begin(), s.values.end());
  return all;
}

size_t first_bit_difference(const std::vector<float>& a, const std::vector<float>& b) {
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (!same_bits(a[i], b[i])) return i;
  return a.size() == b.size() ? SIZE_MAX : std::min(a.size(), b.size());
}

std::vector<float> as_floats(const std::vector<uint8_t>& bytes) {
  std::vector<float> f(bytes.size() / sizeof(float));
  std::memcpy(f.data(), bytes.data(), f.size() * sizeof(float));
  return f;
}

// Random blocks of `type` whose scale fields hold random finite values.
std::vector<uint8_t> random_blocks(GgmlType type, size_t n_blocks, uint32_t seed) {
  const auto& t = ggml_type_traits(type);
  std::vector<uint8_t> bytes = random_bytes(n_blocks * t.type_size, seed);
  std::mt19937 rng(seed + 1);
  for (size_t b = 0; b < n_blocks; ++b) {
    uint8_t* block = bytes.data() + b * t.type_size;
    const auto put16 = [&](size_t offset) {
      const uint16_t h = random_finite_fp16(rng);
      std::memcpy(block + offset, &h, 2);
    };
    switch (type) {
      case GgmlType::q8_0:
      case GgmlType::q4_0: put16(0); break;
      case GgmlType::q4_k:
      case GgmlType::q5_k: put16(0); put16(2); break;
      case GgmlType::q6_k: put16(offsetof(BlockQ6_K, d)); break;
      case GgmlType::q8_k: {
        const float d = std::ldexp(static_cast<float>(rng() % 1000 + 1), -static_cast<int>(rng() % 30));
        std::memcpy(block, &d, 4);
        break;
      }
      default: break;
    }
  }
  return bytes;
}

const std::vector<GgmlType> kQuantizedTypes = {GgmlType::f16,  GgmlType::bf16, GgmlType::q8_0, GgmlType::q4_0,
                                               GgmlType::q4_k, GgmlType::q5_k, GgmlType::q6_k, GgmlType::q8_k};

}  // namespace

TEST_CASE("quantize_row_ref writes the same bytes as llama.cpp's reference quantizers", "[quant][peer]") {
  for (GgmlType type : kQuantizedTypes) {
    std::vector<Segment> segments = quantizer_inputs();
    if (type == GgmlType::f16 || type == GgmlType::bf16) segments.push_back(float_specials());
    const std::vector<float> input = concat(segments);
    const auto n = static_cast<int64_t>(input.size());

    const std::vector<uint8_t> theirs = run_peer("quantize", type, input.data(), input.size() * sizeof(float));
    // The fp16 path differs per ISA (F16C); every level must write the same bytes.
    for (CpuIsa isa : available_isas()) {
      ScopedIsa scoped(isa);
      std::vector<uint8_t> ours(ggml_row_size(type, static_cast<uint64_t>(n)));
      quantize_row_ref(type, input.data(), ours.data(), n);
      INFO("isa " << cpu_isa_name(isa));
      if (ours != theirs) FAIL(describe_mismatch(type, segments, ours, theirs));
      SUCCEED(type_name(type) << ": " << ours.size() << " bytes identical");
    }
  }
}

TEST_CASE("dequantize_row gives llama.cpp's floats bit for bit, for quantized data and random blocks", "[quant][peer]") {
  const std::vector<float> input = concat(quantizer_inputs());
  const auto n = static_cast<int64_t>(input.size());
  for (GgmlType type : kQuantizedTypes) {
    INFO("type " << type_name(type));
    std::vector<std::vector<uint8_t>> sources;
    std::vector<uint8_t> quantized(ggml_row_size(type, static_cast<uint64_t>(n)));
    quantize_row_ref(type, input.data(), quantized.data(), n);
    sources.push_back(std::move(quantized));
    if (type == GgmlType::f16 || type == GgmlType::bf16) {
      std::vector<uint8_t> all(65536 * 2);  // every 16-bit pattern, NaNs and infinities included
      for (uint32_t h = 0; h < 65536; ++h) std::memcpy(all.data() + 2 * h, &h, 2);
      sources.push_back(std::move(all));
    } else {
      sources.push_back(random_blocks(type, 64, static_cast<uint32_t>(type) * 31 + 5));
    }
    for (size_t s = 0; s < sources.size(); ++s) {
      INFO((s == 0 ? "quantized inputs" : "random blocks / all bit patterns"));
      const auto& src = sources[s];
      const auto& t = ggml_type_traits(type);
      const int64_t elements = static_cast<int64_t>(src.size() / t.type_size * t.block_size);
      const std::vector<float> theirs = as_floats(run_peer("dequantize", type, src.data(), src.size()));
      for (CpuIsa isa : available_isas()) {
        ScopedIsa scoped(isa);
        std::vector<float> ours(static_cast<size_t>(elements));
        dequantize_row(type, src.data(), ours.data(), elements);
        const size_t diff = first_bit_difference(ours, theirs);
        INFO("isa " << cpu_isa_name(isa) << ", first difference at element " << diff << ": ours "
                    << (diff < ours.size() ? ours[diff] : 0.0f) << " vs "
                    << (diff < theirs.size() ? theirs[diff] : 0.0f));
        REQUIRE(diff == SIZE_MAX);
      }
    }
  }
}

TEST_CASE("quantize_row_act writes what quantize_row_ref writes for K-quant activations", "[quant]") {
  const std::vector<float> x = gaussian(4 * kQK_K, 11);
  const auto n = static_cast<int64_t>(x.size());
  for (GgmlType type : weight_types()) {
    const GgmlType act = vec_dot_act_type(type);
    if (act != GgmlType::q8_k) continue;
    std::vector<uint8_t> a(ggml_row_size(act, static_cast<uint64_t>(n))), b(a.size());
    quantize_row_act(type, x.data(), a.data(), n);
    quantize_row_ref(act, x.data(), b.data(), n);
    INFO("weight type " << type_name(type));
    REQUIRE(a == b);
  }
}

TEST_CASE("Q8_0 activations round half to even with 127/amax, as llama.cpp's x86 run-time quantizer", "[quant]") {
  // amax 127 makes the multiplier exactly 1: 2.5 and -3.5 are ties. The reference quantizer
  // rounds them away from zero (3, -4); llama.cpp's activations have 2 and -4.
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;
  x[1] = 2.5f;
  x[2] = -3.5f;
  x[3] = 0.5f;
  std::vector<uint8_t> act(ggml_row_size(GgmlType::q8_0, 32)), ref(act.size());
  quantize_row_act(GgmlType::q8_0, x.data(), act.data(), 32);
  quantize_row_ref(GgmlType::q8_0, x.data(), ref.data(), 32);
  const auto* qa = reinterpret_cast<const int8_t*>(act.data() + 2);
  const auto* qr = reinterpret_cast<const int8_t*>(ref.data() + 2);
  CHECK(int{qa[1]} == 2);
  CHECK(int{qa[2]} == -4);
  CHECK(int{qa[3]} == 0);
  CHECK(int{qr[1]} == 3);
  CHECK(int{qr[3]} == 1);
  CHECK(std::memcmp(act.data(), ref.data(), 2) == 0);  // same scale
  // Away from ties both agree.
  const std::vector<float> g = gaussian(1024, 5);
  std::vector<uint8_t> a2(ggml_row_size(GgmlType::q8_0, 1024)), r2(a2.size());
  quantize_row_act(GgmlType::q4_0, g.data(), a2.data(), 1024);
  quantize_row_ref(GgmlType::q8_0, g.data(), r2.data(), 1024);
  size_t differing = 0;
  for (size_t i = 0; i < a2.size(); ++i) differing += a2[i] != r2[i];
  CHECK(differing < a2.size() / 100);
}
