// Expected<T, E>: a value or an error, for failures that callers are expected to handle
// (bad files, bad input). A small stand-in for C++23 std::expected, which g++ 12 only offers
// in C++23 mode. Accessing the wrong alternative is a programmer error and asserts.
#pragma once

#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace scout {

template <class E>
struct Unexpected {
  // A constructor rather than aggregate initialization, so Unexpected(e) also compiles where
  // C++20's parenthesized aggregate initialization is missing (clang 14, the fuzz preset's).
  Unexpected(E e) : error(std::move(e)) {}  // NOLINT: implicit, as the aggregate was
  E error;
};
template <class E>
Unexpected(E) -> Unexpected<E>;

template <class T, class E>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Expected(Unexpected<E> u) : state_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(state_); }
  const T& value() const& { assert(has_value()); return std::get<0>(state_); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The value, or `fallback` when there is an error.
  template <class U>
  T value_or(U&& fallback) const& { return has_value() ? std::get<0>(state_) : static_cast<T>(std::forward<U>(fallback)); }
  template <class U>
  T value_or(U&& fallback) && {
    return has_value() ? std::get<0>(std::move(state_)) : static_cast<T>(std::forward<U>(fallback));
  }

  E& error() & { assert(!has_value()); return std::get<1>(state_); }
  const E& error() const& { assert(!has_value()); return std::get<1>(state_); }

 private:
  std::variant<T, E> state_;
};

// Expected<void, E>: success carries nothing.
template <class E>
class [[nodiscard]] Expected<void, E> {
 public:
  Expected() = default;
  Expected(Unexpected<E> u) : error_(std::move(u.error)), ok_(false) {}  // NOLINT
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const E& error() const { assert(!ok_); return error_; }

 private:
  E error_{};
  bool ok_ = true;
};

// The general-purpose error: a message written for the person who has to act on it.
struct Error {
  std::string message;
};

template <class T>
using Result = Expected<T, Error>;

inline Unexpected<Error> make_error(std::string message) { return {Error{std::move(message)}}; }

}  // namespace scout
