// scout_bench_quants: single-thread throughput of vec_dot per weight type and ISA level, in GB/s
// of weight bytes streamed, over a weight buffer larger than the last-level cache, next to the
// same thread's plain streaming-read bandwidth. That ratio is the figure to watch: at batch size
// 1 a matrix x vector product reads every weight once, so a kernel that keeps up with the
// streaming read is as fast as one core can go; past that, threads (not SIMD) add speed.
//
//   scout_bench_quants [--mib N] [--row N] [--passes N] [--type NAME]...
//     --mib     weight buffer size in MiB (default 1024; make it exceed the L3 cache)
//     --row     elements per row (default 4096, a typical hidden size; multiple of 256)
//     --passes  timed passes over the buffer; the best is reported (default 3)
//     --type    only these types (default: f32 f16 bf16 q8_0 q4_0 q4_K q5_K q6_K)
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/quants.h"

using namespace scout;

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  size_t mib = 1024;
  int64_t row = 4096;
  int passes = 3;
  std::vector<GgmlType> types;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "scout_bench_quants: %s\nusage: scout_bench_quants [--mib N] [--row N] [--passes N] [--type NAME]...\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
    const char* value = argv[++i];
    if (arg == "--mib") o.mib = std::strtoull(value, nullptr, 10);
    else if (arg == "--row") o.row = std::strtoll(value, nullptr, 10);
    else if (arg == "--passes") o.passes = std::atoi(value);
    else if (arg == "--type") {
      const auto t = ggml_type_from_name(value);
      if (!t || !quants_weight_type(*t)) usage((std::string("not a weight type: ") + value).c_str());
      o.types.push_back(*t);
    } else {
      usage(("unknown option " + arg).c_str());
    }
  }
  if (o.mib == 0 || o.row <= 0 || o.row % 256 != 0 || o.passes <= 0) usage("bad option value");
  if (o.types.empty())
    o.types = {GgmlType::f32,  GgmlType::f16,  GgmlType::bf16, GgmlType::q8_0,
               GgmlType::q4_0, GgmlType::q4_k, GgmlType::q5_k, GgmlType::q6_k};
  return o;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Best-of-passes streaming read of the buffer, in GB/s: 8 independent 64-bit sums (vectorised
// by the compiler at the baseline ISA) with the same 2 KiB software prefetch the kernels use.
double stream_read_gbs(const uint8_t* buf, size_t bytes, int passes) {
  double best = 0;
  volatile uint64_t sink = 0;
  for (int p = 0; p < passes; ++p) {
    const auto t0 = Clock::now();
    const auto* w = reinterpret_cast<const uint64_t*>(buf);
    uint64_t s[8] = {};
    for (size_t i = 0; i + 8 <= bytes / 8; i += 8) {
      __builtin_prefetch(w + i + 256);
      for (int k = 0; k < 8; ++k) s[k] += w[i + k];
    }
    sink = sink + s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
    best = std::max(best, static_cast<double>(bytes) / seconds_since(t0) / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  const size_t buffer_bytes = opt.mib << 20;
  auto* buffer = static_cast<uint8_t*>(std::aligned_alloc(64, buffer_bytes));
  if (buffer == nullptr) usage("cannot allocate the weight buffer");
  std::memset(buffer, 0, buffer_bytes);  // fault every page in before timing

  std::mt19937 rng(1);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<float> act_f32(static_cast<size_t>(opt.row));
  for (auto& x : act_f32) x = gauss(rng);

  const double read_gbs = stream_read_gbs(buffer, buffer_bytes, opt.passes);
  std::printf("single thread, weight buffer %zu MiB, rows of %lld, best of %d passes; CPU best level: %s%s\n",
              opt.mib, static_cast<long long>(opt.row), opt.passes, cpu_isa_name(cpu_features().best).data(),
              cpu_features().avx512vnni ? " (with VNNI)" : "");
  std::printf("stream read (baseline): %.1f GB/s\n\n", read_gbs);
  std::printf("%-6s %-9s %10s %10s %12s\n", "type", "isa", "GB/s", "of read", "Melem/s");

  volatile float sink = 0;
  for (GgmlType type : opt.types) {
    const size_t row_bytes = ggml_row_size(type, static_cast<uint64_t>(opt.row));
    const size_t rows = buffer_bytes / row_bytes;
    const size_t bytes = rows * row_bytes;

    // 64 distinct quantized rows, repeated to fill the buffer: realistic block contents
    // (quantizing the whole buffer with the reference quantizers would take minutes).
    const size_t tile_rows = std::min<size_t>(64, rows);
    std::vector<float> x(static_cast<size_t>(opt.row));
    for (size_t r = 0; r < tile_rows; ++r) {
      for (auto& v : x) v = 0.02f * gauss(rng);
      quantize_row_ref(type, x.data(), buffer + r * row_bytes, opt.row);
    }
    for (size_t r = tile_rows; r < rows; r += tile_rows)
      std::memcpy(buffer + r * row_bytes, buffer, std::min(tile_rows, rows - r) * row_bytes);

    const GgmlType act_type = vec_dot_act_type(type);
    std::vector<uint8_t> act(ggml_row_size(act_type, static_cast<uint64_t>(opt.row)));
    quantize_row_act(type, act_f32.data(), act.data(), opt.row);

    for (CpuIsa isa : {CpuIsa::portable, CpuIsa::avx2, CpuIsa::avx512}) {
      const VecDotFn fn = vec_dot_kernel(type, isa);
      if (fn == nullptr) continue;
      double best = 1e30;
      for (int p = 0; p < opt.passes; ++p) {
        const auto t0 = Clock::now();
        float s = 0;
        for (size_t r = 0; r < rows; ++r) s += fn(opt.row, buffer + r * row_bytes, act.data());
        best = std::min(best, seconds_since(t0));
        sink = sink + s;
      }
      const double gbs = static_cast<double>(bytes) / best / 1e9;
      std::printf("%-6s %-9s %10.1f %9.0f%% %12.0f\n", ggml_type_name(type).data(), cpu_isa_name(isa).data(), gbs,
                  100.0 * gbs / read_gbs, static_cast<double>(rows) * static_cast<double>(opt.row) / best / 1e6);
    }
  }
  std::free(buffer);
  return 0;
}
