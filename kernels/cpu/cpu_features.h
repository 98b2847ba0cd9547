// Which SIMD level the CPU kernels run at, chosen at run time from cpuid.
//
// Levels are ordered; each needs all of these CPU features (and OS support for the registers):
//   portable  plain C++, every target
//   avx2      AVX2, FMA, F16C
//   avx512    avx2 plus AVX-512 F, BW, VL (VNNI is used when present as well)
// The active level starts as the best the CPU has, lowered by the environment variable
// SCOUT_CPU_ISA=portable|avx2|avx512 (for tests and benchmarks; asking for more than the CPU has
// gives the best it has, with a warning on stderr), and can be changed with set_cpu_isa().
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace scout {

enum class CpuIsa : uint8_t { portable = 0, avx2 = 1, avx512 = 2 };

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512vnni = false;
  bool os_avx = false;     // the OS saves YMM state (XCR0)
  bool os_avx512 = false;  // the OS saves ZMM and mask state (XCR0)
  CpuIsa best = CpuIsa::portable;  // the highest level all of whose needs are met
};

// What cpuid reported, detected once; thread-safe.
const CpuFeatures& cpu_features();
// Whether kernels of `isa` may run on this CPU.
inline bool cpu_isa_available(CpuIsa isa) { return isa <= cpu_features().best; }

// The level vec_dot() and the row conversions use now. Thread-safe (an atomic).
CpuIsa cpu_isa();
// Sets the active level, clamped to the best available; returns the level actually set.
// Meant for start-up, tests and benchmarks: calls racing with running kernels are safe but
// give no ordering guarantee.
CpuIsa set_cpu_isa(CpuIsa isa);

std::string_view cpu_isa_name(CpuIsa isa);  // "portable", "avx2", "avx512"
std::optional<CpuIsa> cpu_isa_from_name(std::string_view name);

}  // namespace scout
