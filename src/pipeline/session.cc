#include "pipeline/session.h"

namespace gh::pipeline {

void Session::set_header(std::string_view name, std::string value) {
  std::string canonical = http::canonical_header_name(name);
  for (auto& [existing, existing_value] : header) {
    if (existing == canonical) {
      existing_value = std::move(value);
      return;
    }
  }
  header.emplace_back(std::move(canonical), std::move(value));
}

namespace {

boost::json::object header_map(const boost::beast::http::fields& fields) {
  boost::json::object map;
  for (const auto& field : fields) {
    std::string name = http::canonical_header_name(field.name_string());
    boost::json::value& slot = map[name];
    if (!slot.is_array()) slot = boost::json::array();
    slot.as_array().emplace_back(field.value());
  }
  return map;
}

}  // namespace

boost::json::value template_data(const Request& request, const Session& session) {
  boost::json::array captures;
  for (const std::string& capture : session.match_context.regexp_capture_groups) {
    captures.emplace_back(capture);
  }

  boost::json::object session_headers;
  for (const auto& [name, value] : session.header) {
    session_headers[name] = boost::json::array{boost::json::value(value)};
  }

  boost::json::object url{{"Scheme", request.scheme},
                          {"Host", request.host},
                          {"Path", request.path},
                          {"RawQuery", request.raw_query}};
  boost::json::object match_context{{"RegexpCaptureGroups", std::move(captures)},
                                    {"URL", std::move(url)},
                                    {"Method", request.method},
                                    {"Header", header_map(*request.headers)}};
  return boost::json::object{{"Subject", session.subject},
                             {"Extra", session.extra},
                             {"Header", std::move(session_headers)},
                             {"MatchContext", std::move(match_context)}};
}

}  // namespace gh::pipeline
