// Decoding of rule documents. The decoder follows Go's encoding/json as Oathkeeper uses it:
// unknown fields are ignored, an absent or null field keeps its zero value, and a value of
// the wrong type fails the whole document.
#include "rules/rule.h"

#include <regex>

#include <fmt/format.h>

#include "rules/semver.h"
#include "rules/yaml_json.h"

namespace gh::rules {

namespace {

namespace json = boost::json;

std::string_view kind_name(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "number";
    case json::kind::string: return "string";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
  }
  return "value";
}

// Decodes one rule, reporting errors with the document origin, the rule index and the id.
class RuleDecoder {
 public:
  RuleDecoder(std::string_view origin, size_t index) : origin_(origin), index_(index) {}

  Rule decode(const json::value& value);

 private:
  [[noreturn]] void fail(std::string_view field, std::string_view message) const {
    const std::string id = id_.empty() ? "" : fmt::format(" (id \"{}\")", id_);
    throw RuleError(fmt::format("{}: rule at index {}{}: field \"{}\" {}", origin_, index_, id, field, message));
  }

  [[noreturn]] void fail_type(std::string_view field, std::string_view expected, const json::value& found) const {
    fail(field, fmt::format("must be {}, found {}", expected, kind_name(found)));
  }

  // Returns the member, or null when the object lacks it.
  static const json::value* member(const json::object& object, std::string_view key) {
    const json::value* value = object.if_contains(key);
    return value != nullptr && !value->is_null() ? value : nullptr;
  }

  const json::object* read_object(const json::object& parent, std::string_view key, std::string_view field) const {
    const json::value* value = member(parent, key);
    if (value == nullptr) return nullptr;
    if (!value->is_object()) fail_type(field, "an object", *value);
    return &value->get_object();
  }

  std::string read_string(const json::object& parent, std::string_view key, std::string_view field) const {
    const json::value* value = member(parent, key);
    if (value == nullptr) return {};
    if (!value->is_string()) fail_type(field, "a string", *value);
    return std::string(value->get_string());
  }

  bool read_bool(const json::object& parent, std::string_view key, std::string_view field) const {
    const json::value* value = member(parent, key);
    if (value == nullptr) return false;
    if (!value->is_bool()) fail_type(field, "a boolean", *value);
    return value->get_bool();
  }

  std::vector<std::string> read_strings(const json::object& parent, std::string_view key, std::string_view field) const;
  HandlerRef read_handler(const json::value& value, const std::string& field) const;
  std::vector<HandlerRef> read_handlers(const json::object& parent, std::string_view key) const;
  void read_match(const json::object& rule_object, Rule& rule) const;
  void read_version(const json::object& rule_object, Rule& rule) const;

  std::string_view origin_;
  size_t index_;
  std::string id_;
};

std::vector<std::string> RuleDecoder::read_strings(const json::object& parent, std::string_view key,
                                                   std::string_view field) const {
  std::vector<std::string> strings;
  const json::value* value = member(parent, key);
  if (value == nullptr) return strings;
  if (!value->is_array()) fail_type(field, "an array of strings", *value);

  for (size_t i = 0; i < value->get_array().size(); ++i) {
    const json::value& item = value->get_array()[i];
    if (item.is_null()) {
      strings.emplace_back();
      continue;
    }
    if (!item.is_string()) fail_type(fmt::format("{}[{}]", field, i), "a string", item);
    strings.emplace_back(item.get_string());
  }
  return strings;
}

HandlerRef RuleDecoder::read_handler(const json::value& value, const std::string& field) const {
  HandlerRef ref;
  if (value.is_null()) return ref;
  if (!value.is_object()) fail_type(field, "an object", value);

  const json::object& object = value.get_object();
  ref.handler = read_string(object, "handler", field + ".handler");
  if (const json::value* config = object.if_contains("config")) ref.config = *config;
  return ref;
}

std::vector<HandlerRef> RuleDecoder::read_handlers(const json::object& parent, std::string_view key) const {
  std::vector<HandlerRef> refs;
  const json::value* value = member(parent, key);
  if (value == nullptr) return refs;
  if (!value->is_array()) fail_type(key, "an array", *value);

  const json::array& array = value->get_array();
  for (size_t i = 0; i < array.size(); ++i) refs.push_back(read_handler(array[i], fmt::format("{}[{}]", key, i)));
  return refs;
}

void RuleDecoder::read_match(const json::object& rule_object, Rule& rule) const {
  const json::object* match = read_object(rule_object, "match", "match");
  if (match == nullptr) return;

  // An RPC match ({authority, full_method}) serves Oathkeeper's Go gRPC middleware only. Its
  // URL form uses the rpc scheme, which no HTTP request has, so such rules never match here.
  if (match->contains("full_method")) {
    const std::string authority = read_string(*match, "authority", "match.authority");
    const std::string method = read_string(*match, "full_method", "match.full_method");
    rule.match_url = fmt::format("rpc://{}/{}", authority, method);
    rule.match_methods = {"POST"};
    if (member(*match, "allow_http_get") != nullptr && read_bool(*match, "allow_http_get", "match.allow_http_get")) {
      rule.match_methods.emplace_back("GET");
    }
    return;
  }

  rule.match_url = read_string(*match, "url", "match.url");
  rule.match_methods = read_strings(*match, "methods", "match.methods");
}

void RuleDecoder::read_version(const json::object& rule_object, Rule& rule) const {
  rule.version = read_string(rule_object, "version", "version");
  if (rule.version.empty()) return;
  if (!parse_semantic_version(rule.version)) {
    fail("version", fmt::format("\"{}\" is not a semantic version (expected MAJOR.MINOR.PATCH, optionally "
                                "with a leading v, such as v0.40.0)",
                                rule.version));
  }
}

// Rules written for Oathkeeper up to v0.32.0-beta.1 gave the hydrator's retry policy as a
// delay and a retry count; later versions take a maximum delay and a total time budget.
void migrate_hydrator_retry(Rule& rule) {
  for (HandlerRef& mutator : rule.mutators) {
    if (mutator.handler != "hydrator" || !mutator.config.is_object()) continue;
    json::value* retry = mutator.config.get_object().if_contains("retry");
    if (retry == nullptr || !retry->is_object()) continue;

    json::object& policy = retry->get_object();
    const json::value* delay = policy.if_contains("delay_in_milliseconds");
    if (delay == nullptr || !delay->is_number()) continue;
    const int64_t delay_ms = delay->to_number<int64_t>();
    const json::value* retries = policy.if_contains("number_of_retries");
    const int64_t count = retries != nullptr && retries->is_number() ? retries->to_number<int64_t>() : 0;

    policy.erase("delay_in_milliseconds");
    policy.erase("number_of_retries");
    policy["max_delay"] = fmt::format("{}ms", delay_ms);
    policy["give_up_after"] = fmt::format("{}ms", delay_ms * count);
  }
}

// Rules written for Oathkeeper up to v0.37.0 referred to capture groups in the legacy Keto
// authorizer as $1, $2, …; later versions use templates.
void migrate_keto_captures(Rule& rule) {
  if (rule.authorizer.handler != "keto_engine_acp_ory" || !rule.authorizer.config.is_object()) return;

  static const std::regex capture_reference(R"(\$([0-9]+))");
  json::object& config = rule.authorizer.config.get_object();
  for (const char* key : {"required_action", "required_resource"}) {
    json::value* value = config.if_contains(key);
    if (value == nullptr || !value->is_string()) continue;
    const std::string text(value->get_string());
    *value = std::regex_replace(text, capture_reference,
                                "{{ printIndex .MatchContext.RegexpCaptureGroups (sub $1 1 | int)}}");
  }
}

void migrate(Rule& rule) {
  if (rule.version.empty()) return;
  const auto version = parse_semantic_version(rule.version);
  if (compare(*version, *parse_semantic_version("0.32.0-beta.1")) <= 0) migrate_hydrator_retry(rule);
  if (compare(*version, *parse_semantic_version("0.37.0")) <= 0) migrate_keto_captures(rule);
}

Rule RuleDecoder::decode(const json::value& value) {
  Rule rule;
  if (value.is_null()) return rule;
  if (!value.is_object()) {
    throw RuleError(fmt::format("{}: rule at index {} must be an object, found {}", origin_, index_, kind_name(value)));
  }
  const json::object& object = value.get_object();
  rule.raw = value;

  rule.id = read_string(object, "id", "id");
  id_ = rule.id;
  read_version(object, rule);
  rule.description = read_string(object, "description", "description");
  read_match(object, rule);
  rule.authenticators = read_handlers(object, "authenticators");
  if (const json::value* authorizer = member(object, "authorizer")) rule.authorizer = read_handler(*authorizer, "authorizer");
  rule.mutators = read_handlers(object, "mutators");
  rule.errors = read_handlers(object, "errors");

  if (const json::object* upstream = read_object(object, "upstream", "upstream")) {
    rule.upstream.url = read_string(*upstream, "url", "upstream.url");
    rule.upstream.preserve_host = read_bool(*upstream, "preserve_host", "upstream.preserve_host");
    rule.upstream.strip_path = read_string(*upstream, "strip_path", "upstream.strip_path");
  }

  migrate(rule);
  return rule;
}

json::value handler_json(const HandlerRef& ref) {
  return json::object{{"handler", ref.handler}, {"config", ref.config}};
}

json::array handlers_json(const std::vector<HandlerRef>& refs) {
  json::array array;
  for (const HandlerRef& ref : refs) array.push_back(handler_json(ref));
  return array;
}

}  // namespace

std::vector<Rule> parse_rules(std::string_view text, std::string_view origin) {
  json::value document;
  try {
    document = parse_json_or_yaml(text);
  } catch (const std::runtime_error& e) {
    throw RuleError(fmt::format("{}: {}", origin, e.what()));
  }

  std::vector<Rule> rules;
  if (document.is_null()) return rules;  // an empty file holds no rules
  if (!document.is_array()) {
    throw RuleError(fmt::format("{}: a rules document must be an array of rules, found {}", origin, kind_name(document)));
  }

  const json::array& array = document.get_array();
  rules.reserve(array.size());
  for (size_t i = 0; i < array.size(); ++i) rules.push_back(RuleDecoder(origin, i).decode(array[i]));
  return rules;
}

json::value to_json(const Rule& rule) {
  json::value match = nullptr;
  if (!rule.match_url.empty() || !rule.match_methods.empty()) {
    json::array methods;
    for (const std::string& method : rule.match_methods) methods.emplace_back(method);
    match = json::object{{"url", rule.match_url}, {"methods", std::move(methods)}};
  }

  return json::object{
      {"id", rule.id},
      {"version", rule.version},
      {"description", rule.description},
      {"match", std::move(match)},
      {"authenticators", handlers_json(rule.authenticators)},
      {"authorizer", handler_json(rule.authorizer)},
      {"mutators", handlers_json(rule.mutators)},
      {"errors", handlers_json(rule.errors)},
      {"upstream",
       json::object{{"preserve_host", rule.upstream.preserve_host},
                    {"strip_path", rule.upstream.strip_path},
                    {"url", rule.upstream.url}}},
  };
}

}  // namespace gh::rules
