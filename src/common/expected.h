// A value-or-error result for code paths that must not throw (the request path).
//
// GCC 12 in C++20 mode has no std::expected, so this is the subset gatehouse uses:
// construction from a value or from Unexpected{error}, has_value(), value(), error(),
// operator*, operator->. Accessing the wrong alternative is a programming error and
// asserts in debug builds.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <optional>
#include <variant>

namespace gh {

template <typename E>
struct Unexpected {
  E error;
};

template <typename E>
Unexpected(E) -> Unexpected<E>;

template <typename T, typename E>
class [[nodiscard]] Expected {
 public:
  template <typename U = T>
    requires std::is_constructible_v<T, U&&>
  Expected(U&& value) : storage_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT

  template <typename G>
  Expected(Unexpected<G> unexpected)  // NOLINT
      : storage_(std::in_place_index<1>, std::move(unexpected.error)) {}

  bool has_value() const { return storage_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(storage_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(storage_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(storage_));
  }
  const E& error() const& {
    assert(!has_value());
    return std::get<1>(storage_);
  }
  E&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(storage_));
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, E> storage_;
};

// Expected<void, E>: success carries no value.
template <typename E>
class [[nodiscard]] Expected<void, E> {
 public:
  Expected() = default;
  template <typename G>
  Expected(Unexpected<G> unexpected)  // NOLINT
      : error_(std::in_place, std::move(unexpected.error)) {}

  bool has_value() const { return !error_.has_value(); }
  explicit operator bool() const { return has_value(); }
  const E& error() const& {
    assert(!has_value());
    return *error_;
  }

 private:
  std::optional<E> error_;
};

}  // namespace gh
