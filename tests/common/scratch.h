// Files for tests: a fresh folder per test case under the build tree, and writing a file whole.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

namespace scout::test {

// An empty folder build/…/test-scratch/AREA/NAME, emptied if an earlier run left it.
inline std::filesystem::path fresh_scratch_dir(const std::string& area, const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(SCOUT_BINARY_DIR) / "test-scratch" / area / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Writes `text` to `path` (creating its folders), replacing what was there.
inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace scout::test
