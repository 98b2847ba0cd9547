#include "kernels/cpu/cpu_features.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define SCOUT_X86 1
#else
#define SCOUT_X86 0
#endif

namespace scout {
namespace {

#if SCOUT_X86
uint64_t read_xcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
#if SCOUT_X86
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool osxsave = ecx & (1u << 27);
  f.fma = ecx & (1u << 12);
  f.f16c = ecx & (1u << 29);
  const bool avx = ecx & (1u << 28);
  if (osxsave && avx) {
    const uint64_t xcr0 = read_xcr0();
    f.os_avx = (xcr0 & 0x6) == 0x6;             // SSE and AVX state
    f.os_avx512 = f.os_avx && (xcr0 & 0xE0) == 0xE0;  // opmask, ZMM0-15 upper, ZMM16-31
  }
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
    f.avx2 = ebx & (1u << 5);
    f.avx512f = ebx & (1u << 16);
    f.avx512bw = ebx & (1u << 30);
    f.avx512vl = ebx & (1u << 31);
    f.avx512vnni = ecx & (1u << 11);
  }
  if (f.os_avx && f.avx2 && f.fma && f.f16c) {
    f.best = CpuIsa::avx2;
    if (f.os_avx512 && f.avx512f && f.avx512bw && f.avx512vl) f.best = CpuIsa::avx512;
  }
#endif
  return f;
}

CpuIsa initial_isa() {
  const CpuIsa best = cpu_features().best;
  const char* env = std::getenv("SCOUT_CPU_ISA");
  if (env == nullptr || *env == '\0') return best;
  const auto wanted = cpu_isa_from_name(env);
  if (!wanted) {
    std::fprintf(stderr, "scout: SCOUT_CPU_ISA='%s' is not portable, avx2 or avx512; using %s\n", env,
                 cpu_isa_name(best).data());
    return best;
  }
  if (*wanted > best) {
    std::fprintf(stderr, "scout: SCOUT_CPU_ISA=%s is not available on this CPU; using %s\n", env,
                 cpu_isa_name(best).data());
    return best;
  }
  return *wanted;
}

std::atomic<CpuIsa>& active_isa() {
  static std::atomic<CpuIsa> isa{initial_isa()};
  return isa;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

CpuIsa cpu_isa() { return active_isa().load(std::memory_order_relaxed); }

CpuIsa set_cpu_isa(CpuIsa isa) {
  const CpuIsa best = cpu_features().best;
  if (isa > best) isa = best;
  active_isa().store(isa, std::memory_order_relaxed);
  return isa;
}

std::string_view cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::portable: return "portable";
    case CpuIsa::avx2: return "avx2";
    case CpuIsa::avx512: return "avx512";
  }
  return "unknown";
}

std::optional<CpuIsa> cpu_isa_from_name(std::string_view name) {
  for (CpuIsa isa : {CpuIsa::portable, CpuIsa::avx2, CpuIsa::avx512})
    if (cpu_isa_name(isa) == name) return isa;
  return std::nullopt;
}

}  // namespace scout
