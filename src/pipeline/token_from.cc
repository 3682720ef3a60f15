#include "pipeline/token_from.h"

#include <boost/beast/http/field.hpp>

#include "http/headers.h"
#include "http/url.h"

namespace gh::pipeline {
namespace {

// The token of an `Authorization: Bearer <token>` header: the header is split at its first
// space and the scheme compared case-insensitively. The token may be empty.
std::string authorization_bearer(const Request& request) {
  auto header = request.headers->find(boost::beast::http::field::authorization);
  if (header == request.headers->end()) return {};

  std::string_view value = header->value();
  const size_t space = value.find(' ');
  if (space == std::string_view::npos || !http::iequals(value.substr(0, space), "bearer")) return {};
  return std::string(value.substr(space + 1));
}

}  // namespace

Expected<TokenLocation, std::string> parse_token_from(const boost::json::value* token_from) {
  if (token_from == nullptr || token_from->is_null()) return TokenLocation{};
  if (!token_from->is_object()) return Unexpected(std::string("token_from must be an object"));

  const boost::json::object& object = token_from->as_object();
  if (object.empty()) return TokenLocation{};
  if (object.size() > 1) {
    return Unexpected(std::string("token_from must have exactly one of header, query_parameter or cookie"));
  }

  const auto& [key, value] = *object.begin();
  if (!value.is_string()) return Unexpected("token_from." + std::string(key) + " must be a string");
  std::string name(value.as_string());

  if (key == "header") {
    // Only the exact spelling selects Bearer parsing; Oathkeeper compares case-sensitively.
    if (name == "Authorization") return TokenLocation{};
    return TokenLocation{TokenLocation::Kind::header, std::move(name)};
  }
  if (key == "query_parameter") return TokenLocation{TokenLocation::Kind::query_parameter, std::move(name)};
  if (key == "cookie") return TokenLocation{TokenLocation::Kind::cookie, std::move(name)};
  return Unexpected("token_from has unknown key \"" + std::string(key) +
                    "\": expected header, query_parameter or cookie");
}

std::string extract_token(const Request& request, const TokenLocation& location) {
  switch (location.kind) {
    case TokenLocation::Kind::authorization_bearer:
      return authorization_bearer(request);
    case TokenLocation::Kind::header: {
      auto header = request.headers->find(location.name);
      return header == request.headers->end() ? std::string() : std::string(header->value());
    }
    case TokenLocation::Kind::query_parameter:
      return http::query_value(request.raw_query, location.name).value_or(std::string());
    case TokenLocation::Kind::cookie: {
      std::string value;
      return http::find_cookie(*request.headers, location.name, &value) ? value : std::string();
    }
  }
  return {};
}

}  // namespace gh::pipeline
