// Run-time ISA detection and selection.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "kernels/cpu/cpu_features.h"
#include "tests/kernels/quant_test_util.h"

using namespace scout;
using namespace scout::test;

TEST_CASE("cpu_features reports what the kernel's /proc/cpuinfo flags say", "[quant][cpu]") {
  std::ifstream cpuinfo("/proc/cpuinfo");
  if (!cpuinfo) {
    WARN("no /proc/cpuinfo here: nothing to compare cpuid with");
    return;
  }
  std::set<std::string> flags;
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    for (std::string w; words >> w;) flags.insert(w);
    break;
  }
  if (flags.empty()) {
    WARN("/proc/cpuinfo has no x86 flags line: nothing to compare cpuid with");
    return;
  }
  const CpuFeatures& f = cpu_features();
  CHECK(f.avx2 == flags.count("avx2"));
  CHECK(f.fma == flags.count("fma"));
  CHECK(f.f16c == flags.count("f16c"));
  CHECK(f.avx512f == flags.count("avx512f"));
  CHECK(f.avx512bw == flags.count("avx512bw"));
  CHECK(f.avx512vl == flags.count("avx512vl"));
  CHECK(f.avx512vnni == flags.count("avx512_vnni"));
  const bool has_avx2_level = flags.count("avx2") && flags.count("fma") && flags.count("f16c");
  const bool has_avx512_level = has_avx2_level && flags.count("avx512f") && flags.count("avx512bw") && flags.count("avx512vl");
  CHECK(f.best == (has_avx512_level ? CpuIsa::avx512 : has_avx2_level ? CpuIsa::avx2 : CpuIsa::portable));
}

TEST_CASE("set_cpu_isa selects any available level and clamps the rest to the best one", "[quant][cpu]") {
  const CpuIsa best = cpu_features().best;
  const CpuIsa saved = cpu_isa();
  for (CpuIsa isa : {CpuIsa::portable, CpuIsa::avx2, CpuIsa::avx512}) {
    const CpuIsa set = set_cpu_isa(isa);
    CHECK(set == (isa <= best ? isa : best));
    CHECK(cpu_isa() == set);
    CHECK(cpu_isa_available(isa) == (isa <= best));
  }
  set_cpu_isa(saved);
  CHECK(cpu_isa() == saved);
}

TEST_CASE("ISA names round-trip and unknown names are refused", "[quant][cpu]") {
  for (CpuIsa isa : {CpuIsa::portable, CpuIsa::avx2, CpuIsa::avx512}) CHECK(cpu_isa_from_name(cpu_isa_name(isa)) == isa);
  CHECK(cpu_isa_name(CpuIsa::avx512) == "avx512");
  CHECK_FALSE(cpu_isa_from_name("AVX2").has_value());
  CHECK_FALSE(cpu_isa_from_name("sse").has_value());
  CHECK_FALSE(cpu_isa_from_name("").has_value());
}

// SCOUT_CPU_ISA is read once per process, so it is checked in child processes: this binary run
// again on the hidden probe below, which compares the level in use with the one expected.
TEST_CASE("SCOUT_CPU_ISA probe (run by the test below)", "[.scout_cpu_isa_probe]") {
  const char* expected = std::getenv("SCOUT_TEST_EXPECTED_ISA");
  REQUIRE(expected != nullptr);
  REQUIRE(cpu_isa_name(cpu_isa()) == std::string(expected));
}

TEST_CASE("SCOUT_CPU_ISA lowers the starting level and is ignored when unknown or unavailable", "[quant][cpu]") {
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string best(cpu_isa_name(cpu_features().best));
  const auto run = [&](const std::string& env_value, const std::string& expected) {
    const std::string cmd = "SCOUT_CPU_ISA='" + env_value + "' SCOUT_TEST_EXPECTED_ISA='" + expected + "' '" + self +
                            "' '[.scout_cpu_isa_probe]' > /dev/null 2>&1";
    return std::system(cmd.c_str());
  };
  for (CpuIsa isa : {CpuIsa::portable, CpuIsa::avx2, CpuIsa::avx512}) {
    const std::string name(cpu_isa_name(isa));
    INFO("SCOUT_CPU_ISA=" << name);
    CHECK(run(name, cpu_isa_available(isa) ? name : best) == 0);
  }
  CHECK(run("sse9", best) == 0);
  CHECK(run("portable", best == "portable" ? "avx2" : best) != 0);  // the probe itself can fail
}
