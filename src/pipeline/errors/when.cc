#include "pipeline/errors/when.h"

#include <fmt/format.h>

namespace gh::pipeline::errors {
namespace {

namespace bhttp = boost::beast::http;

Expected<std::vector<std::string>, std::string> string_list(const boost::json::value* value,
                                                            std::string_view path) {
  std::vector<std::string> out;
  if (value == nullptr || value->is_null()) return out;
  if (!value->is_array()) return Unexpected{fmt::format("{}: expected an array of strings", path)};
  for (const boost::json::value& item : value->as_array()) {
    if (!item.is_string()) return Unexpected{fmt::format("{}: expected an array of strings", path)};
    out.emplace_back(item.as_string());
  }
  return out;
}

std::string_view strip_parameters(std::string_view media_type) {
  size_t semicolon = media_type.find(';');
  media_type = media_type.substr(0, semicolon);
  while (!media_type.empty() && media_type.front() == ' ') media_type.remove_prefix(1);
  while (!media_type.empty() && media_type.back() == ' ') media_type.remove_suffix(1);
  return media_type;
}

// A handler value of */* matches anything and type/* matches that type; request-side
// wildcards only match an identical handler value.
bool media_type_matches(std::string_view handler_value, std::string_view request_value) {
  if (handler_value == "*/*") return true;
  if (http::iequals(handler_value, request_value)) return true;
  if (handler_value.size() > 2 && handler_value.ends_with("/*")) {
    std::string_view type = handler_value.substr(0, handler_value.size() - 1);  // "text/"
    return request_value.size() > type.size() && http::iequals(request_value.substr(0, type.size()), type);
  }
  return false;
}

bool any_media_type_matches(const std::vector<std::string>& handler_values,
                            std::string_view request_list) {
  size_t start = 0;
  while (start <= request_list.size()) {
    size_t comma = request_list.find(',', start);
    if (comma == std::string_view::npos) comma = request_list.size();
    std::string_view entry = strip_parameters(request_list.substr(start, comma - start));
    for (const std::string& handler_value : handler_values) {
      if (!entry.empty() && media_type_matches(handler_value, entry)) return true;
    }
    start = comma + 1;
  }
  return false;
}

std::string header_or_default(const Request& request, bhttp::field field) {
  auto found = request.headers->find(field);
  if (found == request.headers->end() || found->value().empty()) return "application/octet-stream";
  return std::string(found->value());
}

bool condition_holds(const Condition& condition, const Request& request, const Error& error) {
  if (!condition.errors.empty()) {
    std::string name = error_name(error.status);
    bool found = false;
    for (const std::string& wanted : condition.errors) found = found || wanted == name;
    if (!found) return false;
  }
  if (!condition.content_types.empty()) {
    std::string content_type = header_or_default(request, bhttp::field::content_type);
    if (!any_media_type_matches(condition.content_types, strip_parameters(content_type))) return false;
  }
  if (!condition.accepts.empty()) {
    if (!any_media_type_matches(condition.accepts, header_or_default(request, bhttp::field::accept))) {
      return false;
    }
  }
  return true;
}

}  // namespace

Expected<std::vector<Condition>, std::string> parse_when(const boost::json::object& config) {
  std::vector<Condition> conditions;
  const boost::json::value* when = config.if_contains("when");
  if (when == nullptr || when->is_null()) return conditions;
  if (!when->is_array()) return Unexpected{std::string("when: expected an array")};

  for (size_t i = 0; i < when->as_array().size(); ++i) {
    const boost::json::value& item = when->as_array()[i];
    std::string path = fmt::format("when[{}]", i);
    if (!item.is_object()) return Unexpected{path + ": expected an object"};

    Condition condition;
    auto errors = string_list(item.as_object().if_contains("error"), path + ".error");
    if (!errors) return Unexpected{errors.error()};
    condition.errors = std::move(*errors);

    const boost::json::value* request = item.as_object().if_contains("request");
    const boost::json::value* header = nullptr;
    if (request != nullptr && request->is_object()) header = request->as_object().if_contains("header");
    if (header != nullptr && header->is_object()) {
      auto content_types = string_list(header->as_object().if_contains("content_type"),
                                       path + ".request.header.content_type");
      if (!content_types) return Unexpected{content_types.error()};
      condition.content_types = std::move(*content_types);
      auto accepts = string_list(header->as_object().if_contains("accept"), path + ".request.header.accept");
      if (!accepts) return Unexpected{accepts.error()};
      condition.accepts = std::move(*accepts);
    }
    conditions.push_back(std::move(condition));
  }
  return conditions;
}

bool conditions_hold(const std::vector<Condition>& conditions, const Request& request,
                     const Error& error) {
  if (conditions.empty()) return true;
  for (const Condition& condition : conditions) {
    if (condition_holds(condition, request, error)) return true;
  }
  return false;
}

}  // namespace gh::pipeline::errors
