#include "tools/sandbox/cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

namespace scout {
namespace {

namespace fs = std::filesystem;

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const auto at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

// mountinfo writes a space in a path as \040 (and tab, newline, backslash likewise).
std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto digit = [&](std::size_t k) { return std::isdigit(static_cast<unsigned char>(s[k])) != 0; };
    if (s[i] == '\\' && i + 3 < s.size() && digit(i + 1) && digit(i + 2) && digit(i + 3)) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The directory of cgroup `path` (as /proc/self/cgroup names it) under a mount of `root` at
// `mount_point`; "" when the mount does not show that cgroup.
std::string directory_of(const std::string& mount_point, const std::string& root, const std::string& path) {
  if (root == "/") return path == "/" ? mount_point : mount_point + path;
  if (path == root) return mount_point;
  if (path.rfind(root + "/", 0) == 0) return mount_point + path.substr(root.size());
  return "";
}

std::optional<std::string> read_text(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  if (n < 0) return std::nullopt;
  return text;
}

// 0, or the errno of the failed open or write (cgroup files refuse a value at write()).
int write_text(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int err = n < 0 ? errno : 0;
  ::close(fd);
  return err;
}

std::string why(int err) { return std::strerror(err); }

// The value after `key` on its own line of a flat keyed file (memory.events, pids.events).
long long counter(const std::optional<std::string>& text, std::string_view key) {
  if (!text) return 0;
  for (std::string_view line : split(*text, '\n')) {
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ' ')
      return std::atoll(std::string(line.substr(key.size() + 1)).c_str());
  }
  return 0;
}

// cgroup.controllers and cgroup.subtree_control: names separated by spaces, then a newline.
bool has_word(std::string_view list, std::string_view word) {
  while (!list.empty() && (list.back() == '\n' || list.back() == ' ')) list.remove_suffix(1);
  for (std::string_view w : split(list, ' '))
    if (w == word) return true;
  return false;
}

std::vector<pid_t> listed_processes(const std::string& dir) {
  std::vector<pid_t> pids;
  if (auto text = read_text(dir + "/cgroup.procs"))
    for (std::string_view line : split(*text, '\n'))
      if (!line.empty()) pids.push_back(static_cast<pid_t>(std::atol(std::string(line).c_str())));
  return pids;
}

// Where run cgroups go, found once per process.
struct Base {
  bool v2 = false;
  std::string v2_dir;               // parent of the run cgroups (v2)
  std::string v1_memory, v1_pids;   // parents of the run cgroups (v1)
  std::string unavailable;          // why there is none; "" when there is one
};

// Removes run cgroups left by Scout processes that no longer exist (only empty ones go).
void sweep_leftovers(const std::string& parent) {
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("scout-sandbox-", 0) != 0) continue;
    const pid_t owner = static_cast<pid_t>(std::atol(name.c_str() + std::strlen("scout-sandbox-")));
    if (owner > 0 && ::kill(owner, 0) != 0 && errno == ESRCH) ::rmdir(it->path().c_str());
  }
}

std::string find_v2(const std::string& dir, Base& base) {
  if (dir.empty()) return "no cgroup2 hierarchy is mounted";
  const auto controllers = read_text(dir + "/cgroup.controllers");
  if (!controllers || !has_word(*controllers, "memory") || !has_word(*controllers, "pids"))
    return "the cgroup2 hierarchy offers no memory and pids controllers to " + dir;
  if (::access(dir.c_str(), W_OK) != 0) return "no write access to " + dir;
  const auto subtree = read_text(dir + "/cgroup.subtree_control");
  if (!subtree || !has_word(*subtree, "memory") || !has_word(*subtree, "pids")) {
    int err = write_text(dir + "/cgroup.subtree_control", "+memory +pids");
    if (err == EBUSY) {
      // It still holds processes: when the only one is Scout, move into a leaf of its own.
      const auto here = listed_processes(dir);
      if (here.size() == 1 && here[0] == ::getpid()) {
        const std::string leaf = dir + "/scout-main";
        if (::mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) return "cannot create " + leaf + ": " + why(errno);
        if (int e = write_text(leaf + "/cgroup.procs", std::to_string(::getpid())); e != 0)
          return "cannot move Scout into " + leaf + ": " + why(e);
        err = write_text(dir + "/cgroup.subtree_control", "+memory +pids");
      }
    }
    if (err == EBUSY)
      return "Scout's cgroup " + dir + " holds other processes, so it cannot give the memory and pids controllers to "
             "a child; start Scout in a cgroup of its own with them delegated (for example with systemd-run --user "
             "--scope -p Delegate=yes)";
    if (err != 0) return "cannot enable the memory and pids controllers in " + dir + ": " + why(err);
  }
  base.v2 = true;
  base.v2_dir = dir;
  return "";
}

std::string find_v1(const CgroupPlaces& places, Base& base) {
  if (places.v1_memory.empty() || places.v1_pids.empty()) return "no cgroup v1 memory and pids hierarchies are mounted";
  for (const std::string& dir : {places.v1_memory, places.v1_pids})
    if (::access(dir.c_str(), W_OK) != 0) return "no write access to " + dir + " (cgroup v1 needs root)";
  base.v1_memory = places.v1_memory;
  base.v1_pids = places.v1_pids;
  return "";
}

const Base& base() {
  static Base found;
  static std::once_flag once;
  std::call_once(once, [] {
    const CgroupPlaces places = find_cgroup_places(read_text("/proc/self/mountinfo").value_or(""),
                                                   read_text("/proc/self/cgroup").value_or(""));
    const std::string no_v2 = find_v2(places.v2, found);
    if (found.v2) return sweep_leftovers(found.v2_dir);
    const std::string no_v1 = find_v1(places, found);
    if (no_v1.empty()) {
      sweep_leftovers(found.v1_memory);
      return sweep_leftovers(found.v1_pids);
    }
    found.unavailable = "no cgroup for the run (" + no_v2 + "; " + no_v1 + ")";
  });
  return found;
}

std::atomic<unsigned> run_counter{0};

}  // namespace

CgroupPlaces find_cgroup_places(std::string_view mountinfo, std::string_view self_cgroup) {
  // hierarchy id : controllers : path
  std::string v2_path, memory_path, pids_path;
  for (std::string_view line : split(self_cgroup, '\n')) {
    const auto fields = split(line, ':');
    if (fields.size() < 3) continue;
    const std::string path(line.substr(fields[0].size() + fields[1].size() + 2));
    if (fields[0] == "0" && fields[1].empty()) v2_path = path;
    for (std::string_view c : split(fields[1], ',')) {
      if (c == "memory") memory_path = path;
      if (c == "pids") pids_path = path;
    }
  }
  // id parent major:minor root mount-point options [optional...] - type source super-options
  CgroupPlaces places;
  for (std::string_view line : split(mountinfo, '\n')) {
    const auto dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    const auto before = split(line.substr(0, dash), ' ');
    const auto after = split(line.substr(dash + 3), ' ');
    if (before.size() < 5 || after.size() < 3) continue;
    const std::string root = unescape(before[3]), mount_point = unescape(before[4]);
    if (after[0] == "cgroup2" && places.v2.empty() && !v2_path.empty()) {
      places.v2 = directory_of(mount_point, root, v2_path);
    } else if (after[0] == "cgroup") {
      for (std::string_view option : split(after[2], ',')) {
        if (option == "memory" && places.v1_memory.empty() && !memory_path.empty())
          places.v1_memory = directory_of(mount_point, root, memory_path);
        if (option == "pids" && places.v1_pids.empty() && !pids_path.empty())
          places.v1_pids = directory_of(mount_point, root, pids_path);
      }
    }
  }
  return places;
}

Result<std::unique_ptr<RunCgroup>> RunCgroup::create(const CgroupLimits& limits) {
  const Base& b = base();
  if (!b.unavailable.empty()) return make_error(b.unavailable);
  std::unique_ptr<RunCgroup> cg(new RunCgroup());
  const std::string name = "scout-sandbox-" + std::to_string(::getpid()) + "-" + std::to_string(run_counter++);
  cg->v2_ = b.v2;
  cg->kind_ = b.v2 ? "cgroup v2" : "cgroup v1";
  cg->memory_dir_ = (b.v2 ? b.v2_dir : b.v1_memory) + "/" + name;
  cg->pids_dir_ = (b.v2 ? b.v2_dir : b.v1_pids) + "/" + name;
  for (const std::string& dir : {cg->memory_dir_, cg->pids_dir_}) {
    if (std::find(cg->dirs_.begin(), cg->dirs_.end(), dir) != cg->dirs_.end()) continue;
    if (::mkdir(dir.c_str(), 0755) != 0) return make_error("cannot create the run's cgroup " + dir + ": " + why(errno));
    cg->dirs_.push_back(dir);
  }
  auto set = [](const std::string& file, const std::string& value, bool required) -> Result<void> {
    const int err = write_text(file, value);
    if (err != 0 && (required || err != ENOENT))
      return make_error("cannot set " + file + " to " + value + ": " + why(err));
    return {};
  };
  const std::string memory = std::to_string(limits.memory_bytes), tasks = std::to_string(limits.max_tasks);
  Result<void> ok;
  if (cg->v2_) {
    if (ok = set(cg->memory_dir_ + "/memory.max", memory, true); !ok) return Unexpected{ok.error()};
    if (ok = set(cg->memory_dir_ + "/memory.swap.max", "0", false); !ok) return Unexpected{ok.error()};
    if (ok = set(cg->memory_dir_ + "/memory.oom.group", "1", false); !ok) return Unexpected{ok.error()};
  } else {
    // memsw (memory + swap) must not be below the memory limit, so it is set second.
    if (ok = set(cg->memory_dir_ + "/memory.limit_in_bytes", memory, true); !ok) return Unexpected{ok.error()};
    if (ok = set(cg->memory_dir_ + "/memory.memsw.limit_in_bytes", memory, false); !ok) return Unexpected{ok.error()};
  }
  if (ok = set(cg->pids_dir_ + "/pids.max", tasks, true); !ok) return Unexpected{ok.error()};
  for (const std::string& dir : cg->dirs_) {
    const int fd = ::open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return make_error("cannot open " + dir + "/cgroup.procs: " + why(errno));
    cg->join_fds_.push_back(fd);
  }
  return cg;
}

RunCgroup::~RunCgroup() {
  for (int fd : join_fds_) ::close(fd);
  // A sandboxed run's processes die with its pid namespace; an unsandboxed one's daemons, or a
  // process still being torn down, are killed here.
  if (v2_ && !dirs_.empty()) write_text(dirs_.front() + "/cgroup.kill", "1");
  for (int attempt = 0; attempt < 400 && !dirs_.empty(); ++attempt) {
    for (auto it = dirs_.begin(); it != dirs_.end();) {
      if (::rmdir(it->c_str()) == 0 || errno == ENOENT) {
        it = dirs_.erase(it);
        continue;
      }
      for (pid_t pid : listed_processes(*it)) ::kill(pid, SIGKILL);
      ++it;
    }
    if (!dirs_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

bool RunCgroup::memory_limit_hit() const {
  if (v2_) {
    const auto events = read_text(memory_dir_ + "/memory.events");
    return counter(events, "oom_kill") > 0 || counter(events, "oom_group_kill") > 0;
  }
  return counter(read_text(memory_dir_ + "/memory.oom_control"), "oom_kill") > 0;
}

bool RunCgroup::task_limit_hit() const { return counter(read_text(pids_dir_ + "/pids.events"), "max") > 0; }

}  // namespace scout
