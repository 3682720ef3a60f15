// Typed reads of a handler's effective config. The config has passed schema validation, so
// a key of the wrong type cannot occur; these readers still fall back to the default rather
// than trust that.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "common/duration.h"
#include "http/headers.h"

namespace gh::pipeline {

inline const boost::json::object* object_at(const boost::json::object& config, std::string_view key) {
  const boost::json::value* value = config.if_contains(key);
  return value != nullptr && value->is_object() ? &value->as_object() : nullptr;
}

inline std::string string_at(const boost::json::object& config, std::string_view key,
                             std::string fallback = {}) {
  const boost::json::value* value = config.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : fallback;
}

inline bool bool_at(const boost::json::object& config, std::string_view key, bool fallback = false) {
  const boost::json::value* value = config.if_contains(key);
  return value != nullptr && value->is_bool() ? value->as_bool() : fallback;
}

inline std::optional<long long> int_at(const boost::json::object& config, std::string_view key) {
  const boost::json::value* value = config.if_contains(key);
  if (value == nullptr) return std::nullopt;
  if (value->is_int64()) return value->as_int64();
  if (value->is_uint64()) return static_cast<long long>(value->as_uint64());
  return std::nullopt;
}

inline std::vector<std::string> strings_at(const boost::json::object& config, std::string_view key) {
  std::vector<std::string> out;
  const boost::json::value* value = config.if_contains(key);
  if (value == nullptr || !value->is_array()) return out;
  for (const boost::json::value& item : value->as_array()) {
    if (item.is_string()) out.emplace_back(item.as_string());
  }
  return out;
}

// A duration key, or nullopt when it is absent or not a valid duration.
inline std::optional<Duration> duration_at(const boost::json::object& config, std::string_view key) {
  const boost::json::value* value = config.if_contains(key);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return parse_duration(value->as_string());
}

// A map of header names to values, with names in canonical form.
inline http::HeaderList headers_at(const boost::json::object& config, std::string_view key) {
  http::HeaderList out;
  const boost::json::object* object = object_at(config, key);
  if (object == nullptr) return out;
  for (const auto& [name, value] : *object) {
    if (value.is_string()) out.emplace_back(http::canonical_header_name(name), std::string(value.as_string()));
  }
  return out;
}

}  // namespace gh::pipeline
