// GGUF writer: metadata and tensor infos are encoded in memory (they are small), tensor data is
// streamed one tensor at a time through the caller's fill callback. Files are written to a
// temporary name beside the destination, synced, and renamed into place.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/files.h"
#include "engine/gguf/gguf.h"
#include "engine/gguf/gguf_format.h"

namespace scout::gguf {

using detail::store;
using detail::store_string;

namespace detail {

// Where the writer's bytes go: a file descriptor or a vector.
class Sink {
 public:
  virtual ~Sink() = default;
  // Appends `bytes`; false on failure, with error() saying why.
  virtual bool write(std::span<const std::byte> bytes) = 0;
  virtual std::string error() const { return {}; }
};

}  // namespace detail

namespace {

class VectorSink final : public detail::Sink {
 public:
  explicit VectorSink(std::vector<std::byte>& out) : out_(out) {}
  bool write(std::span<const std::byte> bytes) override {
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    return true;
  }

 private:
  std::vector<std::byte>& out_;
};

class FdSink final : public detail::Sink {
 public:
  explicit FdSink(int fd) : fd_(fd) {}
  bool write(std::span<const std::byte> bytes) override {
    const std::byte* p = bytes.data();
    size_t left = bytes.size();
    while (left > 0) {
      const ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        error_ = std::strerror(errno);
        return false;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    return true;
  }
  std::string error() const override { return error_; }

 private:
  int fd_;
  std::string error_;
};

// Removes the temporary file unless the write was committed (also when fill throws).
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_ && created_) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  bool create() {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    created_ = fd_ >= 0;
    return created_;
  }
  bool sync_and_close() {
    const bool ok = ::fsync(fd_) == 0;
    const int saved = errno;
    const bool closed = ::close(fd_) == 0;
    fd_ = -1;
    if (!ok) errno = saved;
    return ok && closed;
  }
  void commit() { committed_ = true; }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  bool created_ = false;
  bool committed_ = false;
};

GgufError write_error(GgufErrorKind kind, const std::string& path, std::string message) {
  return GgufError{kind, path, GgufError::kNoOffset, std::move(message)};
}

void require_key(const std::string& key) {
  if (key.empty()) throw std::invalid_argument("gguf::Writer: metadata keys must not be empty");
}

template <class T>
std::vector<std::byte> encode_scalar(T v) {
  std::vector<std::byte> out;
  store(out, v);
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ArrayBuilder

ArrayBuilder::ArrayBuilder(ValueType element_type) : element_type_(element_type) {
  if (!detail::value_type_known(static_cast<uint32_t>(element_type))) {
    throw std::invalid_argument("gguf::ArrayBuilder: unknown element type");
  }
}

void ArrayBuilder::expect(ValueType type) const {
  if (type != element_type_) {
    throw std::invalid_argument("gguf::ArrayBuilder: array of " + std::string(value_type_name(element_type_)) +
                                " given a " + std::string(value_type_name(type)));
  }
}

#define SCOUT_GGUF_ADD_SCALAR(NAME, TYPE, VALUE_TYPE) \
  ArrayBuilder& ArrayBuilder::NAME(TYPE v) {          \
    expect(ValueType::VALUE_TYPE);                    \
    store(elements_, v);                              \
    ++count_;                                         \
    return *this;                                     \
  }
SCOUT_GGUF_ADD_SCALAR(add_u8, uint8_t, uint8)
SCOUT_GGUF_ADD_SCALAR(add_i8, int8_t, int8)
SCOUT_GGUF_ADD_SCALAR(add_u16, uint16_t, uint16)
SCOUT_GGUF_ADD_SCALAR(add_i16, int16_t, int16)
SCOUT_GGUF_ADD_SCALAR(add_u32, uint32_t, uint32)
SCOUT_GGUF_ADD_SCALAR(add_i32, int32_t, int32)
SCOUT_GGUF_ADD_SCALAR(add_u64, uint64_t, uint64)
SCOUT_GGUF_ADD_SCALAR(add_i64, int64_t, int64)
SCOUT_GGUF_ADD_SCALAR(add_f32, float, float32)
SCOUT_GGUF_ADD_SCALAR(add_f64, double, float64)
#undef SCOUT_GGUF_ADD_SCALAR

ArrayBuilder& ArrayBuilder::add_bool(bool v) {
  expect(ValueType::boolean);
  store<uint8_t>(elements_, v ? 1 : 0);
  ++count_;
  return *this;
}

ArrayBuilder& ArrayBuilder::add_string(std::string_view v) {
  expect(ValueType::string);
  store_string(elements_, v);
  ++count_;
  return *this;
}

ArrayBuilder& ArrayBuilder::add_array(const ArrayBuilder& v) {
  expect(ValueType::array);
  if (v.depth_ + 1 > kMaxArrayDepth) {
    throw std::invalid_argument("gguf::ArrayBuilder: arrays may nest at most " +
                                std::to_string(kMaxArrayDepth) + " levels");
  }
  depth_ = std::max(depth_, v.depth_ + 1);
  const std::vector<std::byte> inner = v.encode();
  elements_.insert(elements_.end(), inner.begin(), inner.end());
  ++count_;
  return *this;
}

std::vector<std::byte> ArrayBuilder::encode() const {
  std::vector<std::byte> out;
  out.reserve(12 + elements_.size());
  store(out, static_cast<uint32_t>(element_type_));
  store(out, count_);
  out.insert(out.end(), elements_.begin(), elements_.end());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writer: metadata

void Writer::set_encoded(std::string key, ValueType type, std::vector<std::byte> encoded) {
  require_key(key);
  if (auto it = kv_index_.find(key); it != kv_index_.end()) {
    kvs_[it->second].type = type;
    kvs_[it->second].encoded = std::move(encoded);
    return;
  }
  kv_index_.emplace(key, kvs_.size());
  kvs_.push_back({std::move(key), type, std::move(encoded)});
}

void Writer::set_u8(std::string key, uint8_t v) { set_encoded(std::move(key), ValueType::uint8, encode_scalar(v)); }
void Writer::set_i8(std::string key, int8_t v) { set_encoded(std::move(key), ValueType::int8, encode_scalar(v)); }
void Writer::set_u16(std::string key, uint16_t v) { set_encoded(std::move(key), ValueType::uint16, encode_scalar(v)); }
void Writer::set_i16(std::string key, int16_t v) { set_encoded(std::move(key), ValueType::int16, encode_scalar(v)); }
void Writer::set_u32(std::string key, uint32_t v) { set_encoded(std::move(key), ValueType::uint32, encode_scalar(v)); }
void Writer::set_i32(std::string key, int32_t v) { set_encoded(std::move(key), ValueType::int32, encode_scalar(v)); }
void Writer::set_u64(std::string key, uint64_t v) { set_encoded(std::move(key), ValueType::uint64, encode_scalar(v)); }
void Writer::set_i64(std::string key, int64_t v) { set_encoded(std::move(key), ValueType::int64, encode_scalar(v)); }
void Writer::set_f32(std::string key, float v) { set_encoded(std::move(key), ValueType::float32, encode_scalar(v)); }
void Writer::set_f64(std::string key, double v) { set_encoded(std::move(key), ValueType::float64, encode_scalar(v)); }
void Writer::set_bool(std::string key, bool v) {
  set_encoded(std::move(key), ValueType::boolean, encode_scalar<uint8_t>(v ? 1 : 0));
}

void Writer::set_string(std::string key, std::string_view v) {
  std::vector<std::byte> out;
  store_string(out, v);
  set_encoded(std::move(key), ValueType::string, std::move(out));
}

void Writer::set_array(std::string key, const ArrayBuilder& array) {
  set_encoded(std::move(key), ValueType::array, array.encode());
}

void Writer::set_string_array(std::string key, std::span<const std::string> values) {
  ArrayBuilder a(ValueType::string);
  for (const auto& s : values) a.add_string(s);
  set_array(std::move(key), a);
}

void Writer::set_string_array(std::string key, std::span<const std::string_view> values) {
  ArrayBuilder a(ValueType::string);
  for (const auto s : values) a.add_string(s);
  set_array(std::move(key), a);
}

void Writer::set_f32_array(std::string key, std::span<const float> values) {
  ArrayBuilder a(ValueType::float32);
  for (const float v : values) a.add_f32(v);
  set_array(std::move(key), a);
}

void Writer::set_i32_array(std::string key, std::span<const int32_t> values) {
  ArrayBuilder a(ValueType::int32);
  for (const int32_t v : values) a.add_i32(v);
  set_array(std::move(key), a);
}

void Writer::set_value(std::string key, const Value& value) {
  const auto bytes = value.encoded();
  set_encoded(std::move(key), value.type(), std::vector<std::byte>(bytes.begin(), bytes.end()));
}

bool Writer::remove(std::string_view key) {
  const auto it = kv_index_.find(std::string(key));
  if (it == kv_index_.end()) return false;
  kvs_.erase(kvs_.begin() + static_cast<std::ptrdiff_t>(it->second));
  kv_index_.clear();
  for (size_t i = 0; i < kvs_.size(); ++i) kv_index_.emplace(kvs_[i].key, i);
  return true;
}

Expected<void, GgufError> Writer::set_alignment(uint32_t alignment) {
  if (!detail::is_power_of_two(alignment)) {
    return Unexpected{write_error(GgufErrorKind::bad_alignment, "",
                                  "alignment " + std::to_string(alignment) + " is not a power of two")};
  }
  set_u32(std::string(detail::kAlignmentKey), alignment);
  return {};
}

uint32_t Writer::alignment() const {
  const auto it = kv_index_.find(std::string(detail::kAlignmentKey));
  if (it == kv_index_.end()) return detail::kDefaultAlignment;
  const Kv& kv = kvs_[it->second];
  if (kv.type != ValueType::uint32) return detail::kDefaultAlignment;
  const auto a = detail::load<uint32_t>(kv.encoded.data());
  return detail::is_power_of_two(a) ? a : detail::kDefaultAlignment;
}

// ---------------------------------------------------------------------------------------------
// Writer: tensors and output

Expected<void, GgufError> Writer::add_tensor(std::string name, GgmlType type, std::vector<uint64_t> shape) {
  if (name.empty()) {
    return Unexpected{write_error(GgufErrorKind::bad_tensor_name, "", "tensor names must not be empty")};
  }
  if (name.size() >= detail::kMaxTensorNameBytes) {
    return Unexpected{write_error(GgufErrorKind::bad_tensor_name, "",
                                  "tensor name " + detail::quoted(name) + " is " + std::to_string(name.size()) +
                                      " bytes; ggml (and so llama.cpp) accepts at most " +
                                      std::to_string(detail::kMaxTensorNameBytes - 1))};
  }
  if (tensor_index_.count(name)) {
    return Unexpected{write_error(GgufErrorKind::duplicate_tensor, "",
                                  "tensor " + detail::quoted(name) + " is already declared")};
  }
  const auto check = detail::check_shape(shape, ggml_type_traits(type));
  if (!check.problem.empty()) {
    return Unexpected{write_error(GgufErrorKind::bad_shape, "", "tensor " + detail::quoted(name) + " " + check.problem)};
  }
  tensor_index_.emplace(name, tensors_.size());
  tensors_.push_back({std::move(name), type, std::move(shape), check.n_bytes});
  return {};
}

Expected<void, GgufError> Writer::write_to(detail::Sink& sink, const std::string& path, const FillFn& fill,
                                           bool metadata_only) const {
  // general.alignment, when set, must be what a reader accepts.
  uint32_t alignment = detail::kDefaultAlignment;
  if (auto it = kv_index_.find(std::string(detail::kAlignmentKey)); it != kv_index_.end()) {
    const Kv& kv = kvs_[it->second];
    const bool ok = kv.type == ValueType::uint32 && detail::is_power_of_two(detail::load<uint32_t>(kv.encoded.data()));
    if (!ok) {
      return Unexpected{write_error(GgufErrorKind::bad_alignment, path,
                                    "metadata key 'general.alignment' must be a uint32 power of two")};
    }
    alignment = detail::load<uint32_t>(kv.encoded.data());
  }

  // Offsets of each tensor within the data section.
  std::vector<uint64_t> offsets;
  offsets.reserve(tensors_.size());
  uint64_t end = 0;
  for (const auto& t : tensors_) {
    offsets.push_back(end);
    uint64_t next = 0;
    if (__builtin_add_overflow(end, t.n_bytes, &next) || next > UINT64_MAX - alignment) {
      return Unexpected{write_error(GgufErrorKind::bad_shape, path, "the tensors' total size overflows 2^64")};
    }
    end = detail::align_up(next, alignment);
  }

  std::vector<std::byte> head;
  store(head, detail::kMagic);
  store(head, detail::kWrittenVersion);
  store<uint64_t>(head, tensors_.size());
  store<uint64_t>(head, kvs_.size());
  for (const Kv& kv : kvs_) {
    store_string(head, kv.key);
    store(head, static_cast<uint32_t>(kv.type));
    head.insert(head.end(), kv.encoded.begin(), kv.encoded.end());
  }
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const auto& t = tensors_[i];
    store_string(head, t.name);
    store(head, static_cast<uint32_t>(t.shape.size()));
    for (const uint64_t d : t.shape) store(head, d);
    store(head, static_cast<uint32_t>(t.type));
    store(head, offsets[i]);
  }
  // The data section starts aligned. A file without tensors has none, and is not padded: a
  // large general.alignment would otherwise cost that many zeros for nothing (readers, ggml's
  // included, only seek to the data section when there are tensors).
  if (!tensors_.empty() && !metadata_only) head.resize(detail::align_up(head.size(), alignment), std::byte{0});

  auto sink_failed = [&] {
    return Unexpected{write_error(GgufErrorKind::io, path, "cannot write the file: " + sink.error())};
  };
  if (!sink.write(head)) return sink_failed();
  if (metadata_only) return {};

  const std::vector<std::byte> zeros(alignment, std::byte{0});
  std::vector<std::byte> buffer;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const auto& t = tensors_[i];
    buffer.assign(t.n_bytes, std::byte{0});
    if (!fill(i, std::span<std::byte>(buffer))) {
      return Unexpected{write_error(GgufErrorKind::fill_failed, path,
                                    "the data source for tensor " + detail::quoted(t.name) + " (#" +
                                        std::to_string(i) + ") reported a failure")};
    }
    if (!sink.write(buffer)) return sink_failed();
    const uint64_t pad = detail::align_up(t.n_bytes, alignment) - t.n_bytes;
    if (pad && !sink.write(std::span<const std::byte>(zeros).first(pad))) return sink_failed();
  }
  return {};
}

Expected<void, GgufError> Writer::write_bytes(std::vector<std::byte>& out, const FillFn& fill) const {
  out.clear();
  VectorSink sink(out);
  auto r = write_to(sink, "", fill);
  if (!r) out.clear();
  return r;
}

Expected<void, GgufError> Writer::write_file(const std::string& path, const FillFn& fill, bool metadata_only) const {
  if (const auto refused = not_a_regular_file(path)) return Unexpected{write_error(GgufErrorKind::io, path, *refused)};
  static std::atomic<uint64_t> counter{0};
  TempFile temp(path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++));
  if (!temp.create()) {
    return Unexpected{write_error(GgufErrorKind::io, path,
                                  "cannot create " + temp.path() + ": " + std::strerror(errno))};
  }
  FdSink sink(temp.fd());
  if (auto r = write_to(sink, path, fill, metadata_only); !r) return r;
  if (!temp.sync_and_close()) {
    return Unexpected{write_error(GgufErrorKind::io, path,
                                  "cannot write " + temp.path() + ": " + std::strerror(errno))};
  }
  if (::rename(temp.path().c_str(), path.c_str()) != 0) {
    return Unexpected{write_error(GgufErrorKind::io, path,
                                  "cannot rename " + temp.path() + " into place: " + std::strerror(errno))};
  }
  temp.commit();
  return {};
}

Expected<void, GgufError> Writer::write(const std::string& path) const {
  return write(path, [](size_t, std::span<std::byte>) {});
}

Expected<void, GgufError> Writer::write_metadata_only(const std::string& path) const {
  return write_file(path, [](size_t, std::span<std::byte>) { return true; }, true);
}

Expected<void, GgufError> Writer::write(std::vector<std::byte>& out) const {
  return write(out, [](size_t, std::span<std::byte>) {});
}

}  // namespace scout::gguf
