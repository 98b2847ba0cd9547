// GGUF model files: a validating, zero-copy reader (File) and a streaming writer (Writer).
//
// Layout of a GGUF v2/v3 file (little-endian throughout; spec: ggml's docs/gguf.md):
//
//   byte 0  +--------------------------------------------------------------------+
//           | magic "GGUF" | version: u32 | n_tensors: u64 | n_kv: u64           |
//           | n_kv      x { key: string, type: u32, value }                      |
//           | n_tensors x { name: string, n_dims: u32, ne[n_dims]: u64,          |
//           |               type: u32 (ggml type id), offset: u64 }              |
//           | zero padding up to a multiple of the alignment                     |
//   data    +--------------------------------------------------------------------+
//   offset  | tensor data: tensor i at data_offset() + offset_i, each offset_i   |
//           | a multiple of the alignment (`general.alignment`, default 32)      |
//           +--------------------------------------------------------------------+
//
//   string = { length: u64, bytes[length] }           (UTF-8, no terminator)
//   array  = { element type: u32, count: u64, count x element }   (elements may be arrays)
//
// v1 (32-bit counts) is refused; v2 and v3 share the layout above.
//
// Thread-safety: a File is immutable after open(), so any number of threads may read it at once.
// A Writer is a plain value: one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "common/expected.h"
#include "kernels/ggml_types.h"

namespace scout::gguf {

// ---------------------------------------------------------------------------------------------
// Errors

enum class GgufErrorKind {
  io,                  // the file could not be opened, mapped, written, synced or renamed
  bad_magic,            // the file does not start with "GGUF"
  unsupported_version,  // v1, a version newer than 3, or the other byte order
  truncated,           // the file ends inside the header, the metadata or the tensor infos
  bad_count,            // a tensor or key/value count larger than the bytes left could hold
  bad_length,           // a string or array length larger than the bytes left could hold
  bad_value_type,        // a metadata value or array element type outside 0..12
  bad_value,            // a value that its type does not allow (a bool other than 0 or 1)
  nesting_too_deep,      // arrays nested deeper than kMaxArrayDepth
  bad_key,              // an empty metadata key
  duplicate_key,        // the same metadata key twice
  bad_alignment,        // general.alignment not a u32 power of two
  bad_tensor_name,       // an empty tensor name
  duplicate_tensor,     // the same tensor name twice
  bad_shape,            // 0 or > 4 dims, a zero dim, a size that overflows, ne[0] % block != 0
  bad_tensor_type,       // a ggml type id this reader does not know
  misaligned_tensor,    // a tensor offset that is not a multiple of the alignment
  tensor_out_of_bounds,   // tensor data that runs past the end of the file
  tensor_overlap,       // two tensors whose data overlap
  key_missing,          // a typed getter's key is not in the file
  wrong_type,           // a typed getter's key holds another type, or a value that does not fit
  fill_failed,          // Writer: the fill callback reported a failure
};

std::string_view error_kind_name(GgufErrorKind kind);

struct GgufError {
  static constexpr uint64_t kNoOffset = UINT64_MAX;

  GgufErrorKind kind = GgufErrorKind::io;
  std::string path;                // the file (or the name given to from_memory); may be empty
  uint64_t offset = kNoOffset;     // the byte of the file where the problem is, when there is one
  std::string message;             // what is wrong and, for damaged files, what to do about it

  // "model.gguf: byte 1234: tensor 'x' data [1234, 5678) runs past the end of the file ...";
  // the path and byte parts are left out when unknown.
  std::string describe() const;
};

// ---------------------------------------------------------------------------------------------
// Metadata values (read side): views into the file's bytes, valid while the File lives.

enum class ValueType : uint32_t {
  uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, boolean = 7,
  string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12,
};

// "uint8", "int32", "float32", "bool", "string", "array", ... (the spec's names, lower case).
std::string_view value_type_name(ValueType type);

// Arrays nested deeper than this are refused (a guard against stack exhaustion on hostile
// files; real files nest at most once).
inline constexpr int kMaxArrayDepth = 8;

class ArrayView;

// One metadata value. Cheap to copy (a type, a pointer and a length).
class Value {
 public:
  Value() = default;

  ValueType type() const { return type_; }
  // Byte of the file where the value's encoding starts (after its type tag).
  uint64_t offset() const { return offset_; }
  // The value's encoded bytes (for an array: element type, count and elements).
  std::span<const std::byte> encoded() const { return bytes_; }

  bool is_integer() const;
  // Any integer type whose value is >= 0; nullopt for other types and negative values.
  std::optional<uint64_t> as_uint() const;
  // Any integer type whose value fits in int64 (so a uint64 above INT64_MAX gives nullopt).
  std::optional<int64_t> as_int() const;
  // FLOAT32 (exactly widened) or FLOAT64.
  std::optional<double> as_float() const;
  std::optional<bool> as_bool() const;
  std::optional<std::string_view> as_string() const;
  std::optional<ArrayView> as_array() const;

  // Internal: built by the reader over validated bytes.
  Value(ValueType type, std::span<const std::byte> bytes, uint64_t offset)
      : type_(type), bytes_(bytes), offset_(offset) {}

 private:
  ValueType type_ = ValueType::uint8;
  std::span<const std::byte> bytes_;
  uint64_t offset_ = 0;
};

// A metadata array: element type, length and a forward iterator over its elements.
class ArrayView {
 public:
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Value;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Value;

    Iterator() = default;
    Value operator*() const;
    Iterator& operator++();
    Iterator operator++(int) { Iterator old = *this; ++*this; return old; }
    bool operator==(const Iterator& o) const { return index_ == o.index_; }

   private:
    friend class ArrayView;
    // Self-contained (no pointer to the ArrayView), so iterators outlive temporary views.
    ValueType element_type_ = ValueType::uint8;
    const std::byte* elements_ = nullptr;
    uint64_t elements_offset_ = 0;
    uint64_t index_ = 0;
    uint64_t pos_ = 0;  // byte of the current element within the elements
  };

  ArrayView() = default;

  ValueType element_type() const { return element_type_; }
  uint64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  Iterator begin() const;
  Iterator end() const;
  // Element i (precondition: i < size()). O(1) for fixed-size element types, O(i) for strings
  // and arrays, whose elements must be walked.
  Value at(uint64_t i) const;

  // Internal: `encoded` is the array's validated encoding, `offset` where it starts in the file.
  ArrayView(std::span<const std::byte> encoded, uint64_t offset);

 private:
  ValueType element_type_ = ValueType::uint8;
  uint64_t size_ = 0;
  std::span<const std::byte> elements_;
  uint64_t elements_offset_ = 0;
};

// A value as text for people: 7, -3, 0.5, true, "text" (escaped), [1, 2, 3, ... (997 more)].
// Arrays show at most `max_elements` elements per level; strings at most `max_string` bytes.
std::string format_value(const Value& value, size_t max_elements = 8, size_t max_string = 200);
// The type as text: "uint32", "string", "array[string, 151936]", "array[array, 2]".
std::string describe_type(const Value& value);

struct MetadataEntry {
  std::string_view key;  // points into the file
  Value value;
};

// ---------------------------------------------------------------------------------------------
// Tensors

struct TensorInfo {
  std::string name;
  GgmlType type = GgmlType::f32;
  std::vector<uint64_t> shape;  // ne[0] first, as ggml: ne[0] is the contiguous row length
  uint64_t offset = 0;          // from the start of the data section (File::data_offset())
  uint64_t n_bytes = 0;
  std::span<const std::byte> data;  // a view into the file, never a copy

  uint64_t n_elements() const;
};

namespace detail {
class FileParser;
class Sink;

// Owns a read-only memory mapping of a whole file; unmaps it on destruction. Move-only.
class Mapping {
 public:
  Mapping() = default;
  Mapping(void* addr, size_t size) : addr_(addr), size_(size) {}
  Mapping(Mapping&& o) noexcept : addr_(o.addr_), size_(o.size_) { o.addr_ = nullptr; o.size_ = 0; }
  Mapping& operator=(Mapping&& o) noexcept;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping();

 private:
  void* addr_ = nullptr;
  size_t size_ = 0;
};
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Reading

// A parsed, fully validated GGUF file. Every check (structure, counts, lengths, types, shapes,
// alignment, bounds and overlap of tensor data) is done by open()/from_memory(); afterwards
// every accessor is safe to use on whatever bytes the file held.
//
// Ownership: open() maps the file read-only and the File owns the mapping; from_memory() only
// borrows the caller's buffer, which must outlive the File. Keys, string values and tensor
// data are views into those bytes: valid while the File lives (moving the File keeps them
// valid). If another process truncates a mapped file, reads of the lost pages raise SIGBUS:
// the usual contract of mmap, as in llama.cpp.
class File {
 public:
  static Expected<File, GgufError> open(const std::string& path);
  static Expected<File, GgufError> from_memory(std::span<const std::byte> bytes, std::string name);
  // Like open(), but a file whose tensor data section is absent altogether (the header and
  // tensor table of a metadata-only file, as `scout synth --metadata-only` writes) is accepted:
  // its tensors have empty data and tensor_data_present() is false. A data section that is
  // there but cut short is still refused.
  static Expected<File, GgufError> open_metadata(const std::string& path);

  File(File&&) noexcept = default;
  File& operator=(File&&) noexcept = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t file_size() const { return bytes_.size(); }
  // Start of the tensor data section: the first multiple of the alignment after the tensor
  // infos (in a file without tensors it may lie past the end of the file).
  uint64_t data_offset() const { return data_offset_; }
  std::span<const std::byte> bytes() const { return bytes_; }
  // False only for a metadata-only file opened with open_metadata().
  bool tensor_data_present() const { return tensor_data_present_; }

  // All metadata, in file order.
  const std::vector<MetadataEntry>& metadata() const { return metadata_; }
  std::optional<Value> find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key).has_value(); }

  // Typed getters. Errors: kKeyMissing, or kWrongType naming the key and both types (also when
  // an integer does not fit the requested type).
  Expected<uint32_t, GgufError> get_u32(std::string_view key) const;  // any integer type that fits
  Expected<int32_t, GgufError> get_i32(std::string_view key) const;   // any integer type that fits
  Expected<uint64_t, GgufError> get_u64(std::string_view key) const;  // any integer type that fits
  Expected<int64_t, GgufError> get_i64(std::string_view key) const;   // any integer type that fits
  Expected<float, GgufError> get_f32(std::string_view key) const;     // FLOAT32 or FLOAT64
  Expected<double, GgufError> get_f64(std::string_view key) const;    // FLOAT32 or FLOAT64
  Expected<bool, GgufError> get_bool(std::string_view key) const;
  Expected<std::string_view, GgufError> get_string(std::string_view key) const;
  Expected<ArrayView, GgufError> get_array(std::string_view key) const;
  // One view per element, pointing into the file (a 150k-token vocabulary costs 2.4 MB).
  Expected<std::vector<std::string_view>, GgufError> get_string_array(std::string_view key) const;
  // Copies: the file's floats are not necessarily aligned for direct access.
  Expected<std::vector<float>, GgufError> get_f32_array(std::string_view key) const;  // FLOAT32 elements
  Expected<std::vector<int32_t>, GgufError> get_i32_array(std::string_view key) const;  // integers that fit

  // Tensors, in file order.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;  // nullptr when absent

 private:
  friend class detail::FileParser;
  File() = default;
  static Expected<File, GgufError> open_file(const std::string& path, bool allow_no_data);

  detail::Mapping mapping_;  // empty for from_memory()
  std::span<const std::byte> bytes_;
  std::string path_;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  bool allow_no_data_ = false;
  bool tensor_data_present_ = true;
  std::vector<MetadataEntry> metadata_;
  std::unordered_map<std::string_view, size_t> metadata_index_;  // keys point into bytes_
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> tensor_index_;    // names point into bytes_
};

// ---------------------------------------------------------------------------------------------
// Writing

// An array value under construction. Elements must match the element type given at
// construction, and arrays may nest at most kMaxArrayDepth levels; breaking either rule is a
// programmer error (std::invalid_argument).
class ArrayBuilder {
 public:
  explicit ArrayBuilder(ValueType element_type);

  ValueType element_type() const { return element_type_; }
  uint64_t size() const { return count_; }

  ArrayBuilder& add_u8(uint8_t v);
  ArrayBuilder& add_i8(int8_t v);
  ArrayBuilder& add_u16(uint16_t v);
  ArrayBuilder& add_i16(int16_t v);
  ArrayBuilder& add_u32(uint32_t v);
  ArrayBuilder& add_i32(int32_t v);
  ArrayBuilder& add_u64(uint64_t v);
  ArrayBuilder& add_i64(int64_t v);
  ArrayBuilder& add_f32(float v);
  ArrayBuilder& add_f64(double v);
  ArrayBuilder& add_bool(bool v);
  ArrayBuilder& add_string(std::string_view v);
  ArrayBuilder& add_array(const ArrayBuilder& v);  // element type ARRAY: nested arrays

  // The array's encoding: element type, count, elements.
  std::vector<std::byte> encode() const;

 private:
  void expect(ValueType type) const;

  ValueType element_type_;
  uint64_t count_ = 0;
  int depth_ = 1;  // levels of arrays, this one included (at most kMaxArrayDepth)
  std::vector<std::byte> elements_;
};

// Builds a GGUF v3 file: metadata in insertion order, tensors declared up front, tensor data
// streamed one tensor at a time by a callback, so a file larger than memory can be written.
// Each tensor starts at a multiple of the alignment and is followed by zero padding up to the
// next one (the last tensor too).
//
//   Writer w;
//   w.set_string("general.architecture", "qwen3");
//   w.set_u32("qwen3.block_count", 28);
//   if (auto r = w.add_tensor("token_embd.weight", GgmlType::q8_0, {1024, 151936}); !r) ...
//   auto r = w.write("out.gguf", [&](size_t i, std::span<std::byte> dst) { ... fill dst ... });
//
// Setting a key that is already set replaces its value and keeps its position. Keys must be
// non-empty (std::invalid_argument otherwise: a programmer error).
class Writer {
 public:
  // fill(tensor_index, dst): called once per tensor, in declaration order, with a zeroed buffer
  // of exactly that tensor's byte size. A callback returning bool reports failure with false
  // (write() then returns kFillFailed); one returning void always succeeds. Exceptions thrown
  // by it propagate after the partial output is removed.
  using FillFn = std::function<bool(size_t tensor_index, std::span<std::byte> dst)>;

  void set_u8(std::string key, uint8_t v);
  void set_i8(std::string key, int8_t v);
  void set_u16(std::string key, uint16_t v);
  void set_i16(std::string key, int16_t v);
  void set_u32(std::string key, uint32_t v);
  void set_i32(std::string key, int32_t v);
  void set_u64(std::string key, uint64_t v);
  void set_i64(std::string key, int64_t v);
  void set_f32(std::string key, float v);
  void set_f64(std::string key, double v);
  void set_bool(std::string key, bool v);
  void set_string(std::string key, std::string_view v);
  void set_array(std::string key, const ArrayBuilder& array);
  void set_string_array(std::string key, std::span<const std::string> values);
  void set_string_array(std::string key, std::span<const std::string_view> values);
  void set_f32_array(std::string key, std::span<const float> values);
  void set_i32_array(std::string key, std::span<const int32_t> values);
  // Copies a value read from another file, whatever its type (for tools that rewrite models).
  void set_value(std::string key, const Value& value);
  bool remove(std::string_view key);

  // Sets general.alignment (u32). Error kBadAlignment unless a power of two.
  Expected<void, GgufError> set_alignment(uint32_t alignment);
  uint32_t alignment() const;  // general.alignment when set as a valid u32, else 32

  // Declares the next tensor. Errors: kBadTensorName (empty, or 64 bytes or more: ggml's limit),
  // kDuplicateTensor, kBadShape
  // (1 to 4 dims, each >= 1, size representable, shape[0] a multiple of the block size).
  Expected<void, GgufError> add_tensor(std::string name, GgmlType type, std::vector<uint64_t> shape);
  size_t tensor_count() const { return tensors_.size(); }
  uint64_t tensor_n_bytes(size_t index) const { return tensors_.at(index).n_bytes; }

  // Writes `path` through a temporary file in the same folder, synced and renamed into place:
  // on any failure the destination is left as it was.
  template <class Fill>
  Expected<void, GgufError> write(const std::string& path, Fill&& fill) const {
    return write_file(path, adapt(fill));
  }
  // Tensor data all zeros.
  Expected<void, GgufError> write(const std::string& path) const;
  // The header, metadata and tensor table only, no data section: a description of a model
  // (for planning and inspection) that File::open_metadata() reads and File::open() refuses.
  Expected<void, GgufError> write_metadata_only(const std::string& path) const;

  // Writes the file into `out` (replacing its contents): for tests and small files.
  template <class Fill>
  Expected<void, GgufError> write(std::vector<std::byte>& out, Fill&& fill) const {
    return write_bytes(out, adapt(fill));
  }
  Expected<void, GgufError> write(std::vector<std::byte>& out) const;

 private:
  struct Kv {
    std::string key;
    ValueType type;
    std::vector<std::byte> encoded;  // the value without its type tag
  };
  struct PlannedTensor {
    std::string name;
    GgmlType type;
    std::vector<uint64_t> shape;
    uint64_t n_bytes;
  };
  template <class Fill>
  static FillFn adapt(Fill& fill) {
    using R = std::invoke_result_t<Fill&, size_t, std::span<std::byte>>;
    return [&fill](size_t i, std::span<std::byte> dst) -> bool {
      if constexpr (std::is_void_v<R>) {
        fill(i, dst);
        return true;
      } else {
        return static_cast<bool>(fill(i, dst));
      }
    };
  }

  void set_encoded(std::string key, ValueType type, std::vector<std::byte> encoded);
  Expected<void, GgufError> write_file(const std::string& path, const FillFn& fill, bool metadata_only = false) const;
  Expected<void, GgufError> write_bytes(std::vector<std::byte>& out, const FillFn& fill) const;
  Expected<void, GgufError> write_to(detail::Sink& sink, const std::string& path, const FillFn& fill,
                                     bool metadata_only = false) const;

  std::vector<Kv> kvs_;
  std::unordered_map<std::string, size_t> kv_index_;
  std::vector<PlannedTensor> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace scout::gguf
