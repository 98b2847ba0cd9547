// GGUF reader: maps a file and validates all of it before anything is handed out.
//
// The parser walks the bytes once, front to back. Every read is checked against the bytes
// left; every count and length is checked against the bytes left *before* anything is sized
// from it; element counts are additionally capped so that a hostile multi-gigabyte file cannot
// make the reader allocate more than a few bytes per byte of metadata it actually holds.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <numeric>

#include "engine/gguf/gguf.h"
#include "engine/gguf/gguf_format.h"

namespace scout::gguf {

using detail::kCorruptAdvice;
using detail::load;
using detail::quoted;

namespace detail {

Mapping& Mapping::operator=(Mapping&& o) noexcept {
  if (this != &o) {
    if (addr_) ::munmap(addr_, size_);
    addr_ = o.addr_;
    size_ = o.size_;
    o.addr_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

Mapping::~Mapping() {
  if (addr_) ::munmap(addr_, size_);
}

namespace {

// Counts above these are refused outright: far beyond any real model (the largest have a few
// thousand tensors and a few hundred keys), and they bound what the index maps may cost.
constexpr uint64_t kMaxTensors = uint64_t{1} << 20;
constexpr uint64_t kMaxKvs = uint64_t{1} << 20;
// Smallest possible encodings, to bound counts by the bytes left.
constexpr uint64_t kMinKvSize = 8 + 1 + 4 + 1;               // key length, 1-byte key, type, u8
constexpr uint64_t kMinTensorInfoSize = 8 + 1 + 4 + 8 + 4 + 8;  // name, n_dims, 1 dim, type, offset

std::string u128_string(unsigned __int128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return s;
}

}  // namespace

class FileParser {
 public:
  explicit FileParser(File& file) : f_(file), bytes_(file.bytes_), size_(file.bytes_.size()) {}

  Expected<void, GgufError> run() {
    if (!parse_header() || !parse_metadata() || !resolve_alignment() || !parse_tensor_infos() ||
        !place_tensor_data()) {
      return Unexpected{std::move(err_)};
    }
    return {};
  }

 private:
  uint64_t remaining() const { return size_ - pos_; }

  bool fail(GgufErrorKind kind, uint64_t offset, std::string message) {
    err_ = GgufError{kind, f_.path_, offset, std::move(message)};
    return false;
  }

  bool truncated(uint64_t needed) {
    return fail(GgufErrorKind::truncated, pos_,
                "the file ends inside " + where_ + " (" + std::to_string(needed) +
                    " bytes needed, " + std::to_string(remaining()) + " left; file size " +
                    std::to_string(size_) + ")" + std::string(kCorruptAdvice));
  }

  template <class T>
  bool read(T& v) {
    if (remaining() < sizeof(T)) return truncated(sizeof(T));
    v = load<T>(bytes_.data() + pos_);
    pos_ += sizeof(T);
    return true;
  }

  bool read_string(std::string_view& s) {
    const uint64_t at = pos_;
    uint64_t len = 0;
    if (!read(len)) return false;
    if (len > remaining()) {
      return fail(GgufErrorKind::bad_length, at,
                  where_ + ": string length " + std::to_string(len) + " runs past the end of the file (" +
                      std::to_string(remaining()) + " bytes left)" + std::string(kCorruptAdvice));
    }
    s = std::string_view(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return true;
  }

  bool parse_header() {
    where_ = "the header";
    static constexpr char kMagicText[4] = {'G', 'G', 'U', 'F'};
    const size_t n = std::min<uint64_t>(4, size_);
    if (n > 0 && std::memcmp(bytes_.data(), kMagicText, n) != 0) {
      std::string shown;
      for (size_t i = 0; i < n; ++i) shown += static_cast<char>(bytes_[i]);
      std::string hint;
      if (shown == "lmgg" || shown == "fmgg" || shown == "tjgg") hint = " (a legacy GGML/GGMF/GGJT file: convert it to GGUF with llama.cpp)";
      return fail(GgufErrorKind::bad_magic, 0,
                  "not a GGUF file: it starts with " + quoted(shown) + ", not 'GGUF'" + hint);
    }
    if (size_ < 4) return truncated(4 - size_);
    pos_ = 4;
    if (!read(f_.version_)) return false;
    const uint32_t v = f_.version_;
    if (v != 0 && (v & 0xFFFF) == 0) {
      return fail(GgufErrorKind::unsupported_version, 4,
                  "version field reads " + std::to_string(v) +
                      ": this looks like a big-endian GGUF file, which Scout does not read");
    }
    if (v == 1) {
      return fail(GgufErrorKind::unsupported_version, 4,
                  "GGUF version 1 is no longer supported (Scout reads versions 2 and 3); "
                  "re-convert the model with a current llama.cpp");
    }
    if (v != 2 && v != 3) {
      return fail(GgufErrorKind::unsupported_version, 4,
                  "GGUF version " + std::to_string(v) + " is not supported (Scout reads versions 2 and 3)");
    }
    if (!read(n_tensors_) || !read(n_kv_)) return false;
    // Bound both counts by the bytes left before anything is sized from them.
    if (n_kv_ > kMaxKvs || n_kv_ > remaining() / kMinKvSize) {
      return fail(GgufErrorKind::bad_count, 16,
                  "the header claims " + std::to_string(n_kv_) + " metadata entries, but the " +
                      std::to_string(remaining()) + " bytes left hold at most " +
                      std::to_string(std::min(kMaxKvs, remaining() / kMinKvSize)) + std::string(kCorruptAdvice));
    }
    if (n_tensors_ > kMaxTensors || n_tensors_ > (remaining() - n_kv_ * kMinKvSize) / kMinTensorInfoSize) {
      return fail(GgufErrorKind::bad_count, 8,
                  "the header claims " + std::to_string(n_tensors_) + " tensors, but the " +
                      std::to_string(remaining()) + " bytes left (after " + std::to_string(n_kv_) +
                      " metadata entries) hold at most " +
                      std::to_string(std::min(kMaxTensors, (remaining() - n_kv_ * kMinKvSize) / kMinTensorInfoSize)) +
                      std::string(kCorruptAdvice));
    }
    return true;
  }

  // Validates the value of `type` at pos_ and moves past it.
  bool skip_value(ValueType type, int depth) {
    if (auto n = fixed_value_size(type)) {
      if (remaining() < *n) return truncated(*n);
      if (type == ValueType::boolean && static_cast<uint8_t>(bytes_[pos_]) > 1) {
        return fail(GgufErrorKind::bad_value, pos_,
                    where_ + ": bool byte is " + std::to_string(static_cast<uint8_t>(bytes_[pos_])) +
                        ", not 0 or 1" + std::string(kCorruptAdvice));
      }
      pos_ += *n;
      return true;
    }
    if (type == ValueType::string) {
      std::string_view s;
      return read_string(s);
    }
    // ARRAY
    const uint64_t at = pos_;
    if (depth >= kMaxArrayDepth) {
      return fail(GgufErrorKind::nesting_too_deep, at,
                  where_ + ": arrays nested more than " + std::to_string(kMaxArrayDepth) +
                      " deep" + std::string(kCorruptAdvice));
    }
    uint32_t element_id = 0;
    uint64_t count = 0;
    if (!read(element_id)) return false;
    if (!value_type_known(element_id)) {
      return fail(GgufErrorKind::bad_value_type, at,
                  where_ + ": array element type " + std::to_string(element_id) +
                      " is not a GGUF value type (0..12)" + std::string(kCorruptAdvice));
    }
    if (!read(count)) return false;
    const auto element_type = static_cast<ValueType>(element_id);
    const uint64_t min_size = min_value_size(element_type);
    if (count > remaining() / min_size) {
      return fail(GgufErrorKind::bad_length, at + 4,
                  where_ + ": array of " + std::to_string(count) + " " +
                      std::string(value_type_name(element_type)) + " needs at least " +
                      u128_string(static_cast<unsigned __int128>(count) * min_size) + " bytes, but only " +
                      std::to_string(remaining()) + " are left" + std::string(kCorruptAdvice));
    }
    if (element_type == ValueType::boolean) {
      for (uint64_t i = 0; i < count; ++i) {
        if (!skip_value(ValueType::boolean, depth + 1)) return false;
      }
    } else if (auto n = fixed_value_size(element_type)) {
      pos_ += count * *n;  // within bounds: checked against remaining() above
    } else {
      for (uint64_t i = 0; i < count; ++i) {
        if (!skip_value(element_type, depth + 1)) return false;
      }
    }
    return true;
  }

  bool parse_metadata() {
    f_.metadata_.reserve(n_kv_);  // bounded by the bytes left (parse_header)
    std::vector<uint64_t> key_offsets;
    key_offsets.reserve(n_kv_);
    for (uint64_t i = 0; i < n_kv_; ++i) {
      where_ = "metadata entry #" + std::to_string(i);
      const uint64_t key_at = pos_;
      std::string_view key;
      if (!read_string(key)) return false;
      if (key.empty()) {
        return fail(GgufErrorKind::bad_key, key_at, where_ + " has an empty key" + std::string(kCorruptAdvice));
      }
      where_ = "metadata key " + quoted(key);
      if (auto it = f_.metadata_index_.find(key); it != f_.metadata_index_.end()) {
        return fail(GgufErrorKind::duplicate_key, key_at,
                    where_ + " appears twice (first at byte " + std::to_string(key_offsets[it->second]) +
                        ")" + std::string(kCorruptAdvice));
      }
      const uint64_t type_at = pos_;
      uint32_t type_id = 0;
      if (!read(type_id)) return false;
      if (!value_type_known(type_id)) {
        return fail(GgufErrorKind::bad_value_type, type_at,
                    where_ + " has value type " + std::to_string(type_id) +
                        ", which is not a GGUF value type (0..12)" + std::string(kCorruptAdvice));
      }
      const auto type = static_cast<ValueType>(type_id);
      const uint64_t value_at = pos_;
      if (!skip_value(type, 0)) return false;
      f_.metadata_index_.emplace(key, f_.metadata_.size());
      f_.metadata_.push_back({key, Value(type, bytes_.subspan(value_at, pos_ - value_at), value_at)});
      key_offsets.push_back(key_at);
    }
    return true;
  }

  bool resolve_alignment() {
    f_.alignment_ = kDefaultAlignment;
    const auto found = f_.find(kAlignmentKey);
    if (!found) return true;
    if (found->type() != ValueType::uint32) {
      return fail(GgufErrorKind::bad_alignment, found->offset(),
                  "metadata key 'general.alignment' is " + describe_type(*found) +
                      "; GGUF requires uint32" + std::string(kCorruptAdvice));
    }
    const uint32_t a = static_cast<uint32_t>(*found->as_uint());
    if (!is_power_of_two(a)) {
      return fail(GgufErrorKind::bad_alignment, found->offset(),
                  "metadata key 'general.alignment' is " + std::to_string(a) +
                      ", which is not a power of two" + std::string(kCorruptAdvice));
    }
    f_.alignment_ = a;
    return true;
  }

  bool parse_tensor_infos() {
    if (n_tensors_ > remaining() / kMinTensorInfoSize) {  // re-checked now the metadata is known
      return fail(GgufErrorKind::bad_count, 8,
                  "the header claims " + std::to_string(n_tensors_) + " tensors, but the " +
                      std::to_string(remaining()) + " bytes left after the metadata hold at most " +
                      std::to_string(remaining() / kMinTensorInfoSize) + std::string(kCorruptAdvice));
    }
    f_.tensors_.reserve(n_tensors_);
    for (uint64_t i = 0; i < n_tensors_; ++i) {
      where_ = "tensor info #" + std::to_string(i);
      const uint64_t name_at = pos_;
      std::string_view name;
      if (!read_string(name)) return false;
      if (name.empty()) {
        return fail(GgufErrorKind::bad_tensor_name, name_at, where_ + " has an empty name" + std::string(kCorruptAdvice));
      }
      where_ = "tensor " + quoted(name);
      if (auto it = f_.tensor_index_.find(name); it != f_.tensor_index_.end()) {
        return fail(GgufErrorKind::duplicate_tensor, name_at,
                    where_ + " appears twice (tensor infos #" + std::to_string(it->second) + " and #" +
                        std::to_string(i) + ")" + std::string(kCorruptAdvice));
      }
      const uint64_t dims_at = pos_;
      uint32_t n_dims = 0;
      if (!read(n_dims)) return false;
      if (n_dims == 0 || n_dims > kMaxDims) {
        return fail(GgufErrorKind::bad_shape, dims_at,
                    where_ + " has " + std::to_string(n_dims) + " dimensions; GGUF tensors have 1 to " +
                        std::to_string(kMaxDims) + std::string(kCorruptAdvice));
      }
      std::vector<uint64_t> shape(n_dims);
      for (auto& d : shape) {
        if (!read(d)) return false;
      }
      const uint64_t type_at = pos_;
      uint32_t type_id = 0;
      if (!read(type_id)) return false;
      const auto traits = ggml_type_traits(type_id);
      if (!traits) {
        return fail(GgufErrorKind::bad_tensor_type, type_at,
                    where_ + " has type id " + std::to_string(type_id) +
                        ", which is not a ggml type Scout knows; the file is corrupt or needs a newer Scout");
      }
      const ShapeCheck shape_check = check_shape(shape, *traits);
      if (!shape_check.problem.empty()) {
        return fail(GgufErrorKind::bad_shape, dims_at, where_ + " " + shape_check.problem + std::string(kCorruptAdvice));
      }
      const uint64_t offset_at = pos_;
      uint64_t offset = 0;
      if (!read(offset)) return false;
      if (offset % f_.alignment_ != 0) {
        return fail(GgufErrorKind::misaligned_tensor, offset_at,
                    where_ + " data offset " + std::to_string(offset) + " is not a multiple of the alignment " +
                        std::to_string(f_.alignment_) + std::string(kCorruptAdvice));
      }
      f_.tensor_index_.emplace(name, f_.tensors_.size());
      TensorInfo t;
      t.name = std::string(name);
      t.type = static_cast<GgmlType>(type_id);
      t.shape = std::move(shape);
      t.offset = offset;
      t.n_bytes = shape_check.n_bytes;
      f_.tensors_.push_back(std::move(t));
    }
    return true;
  }

  bool place_tensor_data() {
    // The data section starts at the next multiple of the alignment after the tensor infos.
    f_.data_offset_ = align_up(pos_, f_.alignment_);
    auto& tensors = f_.tensors_;
    // A metadata-only file ends at (or within the padding after) the tensor table.
    if (f_.allow_no_data_ && !tensors.empty() && size_ <= f_.data_offset_) {
      f_.tensor_data_present_ = false;
      return true;
    }
    for (auto& t : tensors) {
      const unsigned __int128 begin = static_cast<unsigned __int128>(f_.data_offset_) + t.offset;
      const unsigned __int128 end = begin + t.n_bytes;
      if (end > size_) {
        const uint64_t at = begin > size_ ? size_ : static_cast<uint64_t>(begin);
        return fail(GgufErrorKind::tensor_out_of_bounds, at,
                    "tensor " + quoted(t.name) + " data [" + u128_string(begin) + ", " + u128_string(end) +
                        ") runs past the end of the file (size " + std::to_string(size_) + ")" +
                        std::string(kCorruptAdvice));
      }
      t.data = bytes_.subspan(static_cast<size_t>(begin), t.n_bytes);
    }
    // Overlap: sort by offset, then each tensor must end before the next begins.
    std::vector<size_t> order(tensors.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tensors[a].offset < tensors[b].offset; });
    for (size_t k = 1; k < order.size(); ++k) {
      const TensorInfo& prev = tensors[order[k - 1]];
      const TensorInfo& cur = tensors[order[k]];
      if (prev.offset + prev.n_bytes > cur.offset) {  // no overflow: both lie inside the file
        const uint64_t d = f_.data_offset_;
        return fail(GgufErrorKind::tensor_overlap, d + cur.offset,
                    "tensor " + quoted(cur.name) + " data [" + std::to_string(d + cur.offset) + ", " +
                        std::to_string(d + cur.offset + cur.n_bytes) + ") overlaps tensor " + quoted(prev.name) +
                        " data [" + std::to_string(d + prev.offset) + ", " +
                        std::to_string(d + prev.offset + prev.n_bytes) + ")" + std::string(kCorruptAdvice));
      }
    }
    return true;
  }

  File& f_;
  std::span<const std::byte> bytes_;
  uint64_t size_;
  uint64_t pos_ = 0;
  uint64_t n_tensors_ = 0;
  uint64_t n_kv_ = 0;
  std::string where_;  // what is being read, for messages: "the header", "tensor 'x'", ...
  GgufError err_;
};

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// File

Expected<File, GgufError> File::from_memory(std::span<const std::byte> bytes, std::string name) {
  File f;
  f.bytes_ = bytes;
  f.path_ = std::move(name);
  if (auto r = detail::FileParser(f).run(); !r) return Unexpected{r.error()};
  return f;
}

Expected<File, GgufError> File::open(const std::string& path) { return open_file(path, false); }

Expected<File, GgufError> File::open_metadata(const std::string& path) { return open_file(path, true); }

Expected<File, GgufError> File::open_file(const std::string& path, bool allow_no_data) {
  auto io_error = [&](std::string what) {
    return Unexpected{GgufError{GgufErrorKind::io, path, GgufError::kNoOffset,
                                what + ": " + std::strerror(errno)}};
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open the file");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    auto e = io_error("cannot stat the file");
    ::close(fd);
    return e;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Unexpected{GgufError{GgufErrorKind::io, path, GgufError::kNoOffset, "not a regular file"}};
  }
  const auto size = static_cast<size_t>(st.st_size);
  File f;
  f.path_ = path;
  f.allow_no_data_ = allow_no_data;
  if (size > 0) {
    void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (addr == MAP_FAILED) {
      auto e = io_error("cannot map the file into memory");
      ::close(fd);
      return e;
    }
    f.mapping_ = detail::Mapping(addr, size);
    f.bytes_ = std::span<const std::byte>(static_cast<const std::byte*>(addr), size);
  }
  ::close(fd);  // the mapping keeps the file's pages reachable
  if (auto r = detail::FileParser(f).run(); !r) return Unexpected{r.error()};
  return f;
}

}  // namespace scout::gguf
