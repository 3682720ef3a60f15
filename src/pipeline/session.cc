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

const boost::json::value& Session::extra_value() const {
  static const boost::json::value kNull;
  return extra ? *extra : kNull;
}

void Session::set_extra(boost::json::value value) {
  extra = std::make_shared<const boost::json::value>(std::move(value));
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

boost::json::object match_context_data(const Request& request, const Session& session, const text::DataUse& use) {
  boost::json::object match_context;
  if (use.reads("MatchContext", "RegexpCaptureGroups")) {
    boost::json::array captures;
    for (const std::string& capture : session.match_context.regexp_capture_groups) captures.emplace_back(capture);
    match_context["RegexpCaptureGroups"] = std::move(captures);
  }
  if (use.reads("MatchContext", "URL")) {
    match_context["URL"] = boost::json::object{{"Scheme", request.scheme},
                                               {"Host", request.host},
                                               {"Path", request.path},
                                               {"RawQuery", request.raw_query}};
  }
  if (use.reads("MatchContext", "Method")) match_context["Method"] = request.method;
  if (use.reads("MatchContext", "Header")) match_context["Header"] = header_map(*request.headers);
  return match_context;
}

}  // namespace

boost::json::value template_data(const Request& request, const Session& session) {
  return template_data(request, session, text::DataUse{.everything = true, .paths = {}});
}

boost::json::value template_data(const Request& request, const Session& session, const text::DataUse& use) {
  boost::json::object data;
  if (use.reads("Subject")) data["Subject"] = session.subject;
  if (use.reads("Extra")) data["Extra"] = session.extra_value();
  if (use.reads("Header")) {
    boost::json::object session_headers;
    for (const auto& [name, value] : session.header) {
      session_headers[name] = boost::json::array{boost::json::value(value)};
    }
    data["Header"] = std::move(session_headers);
  }
  if (use.reads("MatchContext")) data["MatchContext"] = match_context_data(request, session, use);
  return data;
}

}  // namespace gh::pipeline
