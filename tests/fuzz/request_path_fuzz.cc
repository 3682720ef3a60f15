// libFuzzer target for request-target handling: splitting, percent-decoding, normalizing and
// re-encoding a path must never crash, and normalizing must be idempotent.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/url.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  gh::http::Target parts = gh::http::split_target(target);
  gh::http::query_value(parts.query, "token");

  auto decoded = gh::http::percent_decode(parts.path);
  if (!decoded) return 0;
  const std::string normalized = gh::http::normalize_path(*decoded);
  if (gh::http::normalize_path(normalized) != normalized) std::abort();
  if (normalized.find("/../") != std::string::npos || normalized.ends_with("/..")) std::abort();

  auto round_trip = gh::http::percent_decode(gh::http::encode_path(normalized));
  if (!round_trip || *round_trip != normalized) std::abort();
  return 0;
}
