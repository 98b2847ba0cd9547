// How a loaded model's weights are mapped: in place from the file, with the kernel asked for
// huge pages (decode streams every weight once per token, and 4 KiB mappings cost page walks).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <vector>

#include "engine/models/model.h"
#include "tests/engine/session/tiny_models.h"

using namespace scout;

namespace {

// The VmFlags lines of the mappings of `path` in this process (madvise over part of a mapping
// splits it), in address order.
std::vector<std::string> vm_flags_of(const std::string& path) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  const std::string canonical = std::filesystem::canonical(path).string();
  std::vector<std::string> out;
  while (std::getline(smaps, line)) {
    const bool header = !line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) && line.find('-') < 16;
    if (header) inside = line.size() >= canonical.size() && line.ends_with(canonical);
    if (inside && line.starts_with("VmFlags:")) out.push_back(line.substr(8));
  }
  return out;
}

std::set<std::string> words_of(const std::string& text) {
  std::istringstream in(text);
  return {std::istream_iterator<std::string>(in), {}};
}

}  // namespace

TEST_CASE("a loaded model's file mapping is read-only, shared with the page cache, and asks for huge pages",
          "[model-load]") {
  if (!std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled")) {
    WARN("this kernel has no transparent huge pages; nothing to check");
    return;
  }
  const auto path = test::tiny_model_path({.arch = Arch::qwen3});
  auto model = Model::load(path);
  REQUIRE(model);
  const auto mappings = vm_flags_of(path);
  REQUIRE_FALSE(mappings.empty());
  // The header and metadata before the tensor data keep their flags; the data gets "hg".
  const auto data = words_of(mappings.back());
  INFO(mappings.back());
  CHECK(data.count("rd"));
  CHECK_FALSE(data.count("wr"));
  CHECK(data.count("hg"));  // MADV_HUGEPAGE
}
