// Loading: read files, merge, apply environment overrides, fill defaults, validate.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/config.h"
#include "config/environment.h"
#include "config/schema.h"

namespace gh::config {
namespace {

namespace json = boost::json;
using detail::Schema;

std::string list_problems(const std::vector<Problem>& problems) {
  std::string text;
  for (const Problem& problem : problems) {
    if (!text.empty()) {
      text += '\n';
    }
    text += problem.path.empty() ? problem.message : problem.path + ": " + problem.message;
  }
  return text;
}

std::optional<std::string> read_file(const std::string& file, std::vector<Problem>& problems) {
  std::ifstream stream(file, std::ios::binary);
  if (!stream) {
    problems.push_back({file, std::string("cannot read file: ") + std::strerror(errno)});
    return std::nullopt;
  }
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

void merge_file(const std::string& file, json::value& merged, std::vector<Problem>& problems) {
  std::optional<std::string> text = read_file(file, problems);
  if (!text) {
    return;
  }
  try {
    json::value document = parse_document(*text, file);
    if (document.is_null()) {
      return;  // An empty file sets nothing.
    }
    if (!document.is_object()) {
      problems.push_back({file, "invalid document: expected a mapping of config keys at the top level"});
      return;
    }
    deep_merge(merged, document);
  } catch (const ConfigError& error) {
    problems.insert(problems.end(), error.problems().begin(), error.problems().end());
  }
}

// Oathkeeper's rule fetcher also takes a single repository URL as a string, and example
// configs written for it do so, so a string becomes a one-element list before validation.
void normalize_repositories(json::value& document) {
  auto* rules = document.as_object().if_contains("access_rules");
  if (!rules || !rules->is_object()) {
    return;
  }
  auto* repositories = rules->as_object().if_contains("repositories");
  if (repositories && repositories->is_string()) {
    *repositories = json::array{*repositories};
  }
}

void sort_problems(std::vector<Problem>& problems) {
  std::stable_sort(problems.begin(), problems.end(),
                   [](const Problem& a, const Problem& b) { return a.path < b.path; });
}

const char* family_key(HandlerKind kind) {
  switch (kind) {
    case HandlerKind::authenticator: return "authenticators";
    case HandlerKind::authorizer: return "authorizers";
    case HandlerKind::mutator: return "mutators";
    case HandlerKind::error_handler: return "handlers";
  }
  return "";
}

const char* family_noun(HandlerKind kind) {
  switch (kind) {
    case HandlerKind::authenticator: return "authenticator";
    case HandlerKind::authorizer: return "authorizer";
    case HandlerKind::mutator: return "mutator";
    case HandlerKind::error_handler: return "error handler";
  }
  return "";
}

// The schema of a handler family's object ("authenticators", or "errors.handlers").
const json::object& family_schema(const Schema& schema, HandlerKind kind) {
  const json::object* node = &schema.root().at("properties").as_object();
  if (kind == HandlerKind::error_handler) {
    node = &schema.resolve(node->at("errors").as_object()).at("properties").as_object();
  }
  return schema.resolve(node->at(family_key(kind)).as_object());
}

struct HandlerSchema {
  bool known = false;
  const json::object* config = nullptr;  // null for handlers that take no config
};

HandlerSchema find_handler(const Schema& schema, HandlerKind kind, std::string_view id) {
  const auto& handlers = family_schema(schema, kind).at("properties").as_object();
  const auto* handler = handlers.if_contains(id);
  if (!handler) {
    return {};
  }
  HandlerSchema found{true, nullptr};
  schema.for_each_property(handler->as_object(), [&](std::string_view key, const json::object& property) {
    const json::object& resolved = schema.resolve(property);
    if (key == "config" && resolved.contains("properties")) {
      found.config = &resolved;
    }
  });
  return found;
}

std::string known_handlers(const Schema& schema, HandlerKind kind) {
  std::vector<std::string> ids;
  for (const auto& [id, unused] : family_schema(schema, kind).at("properties").as_object()) {
    ids.emplace_back(id);
  }
  std::sort(ids.begin(), ids.end());
  std::string text;
  for (const std::string& id : ids) {
    text += (text.empty() ? "" : ", ") + id;
  }
  return text;
}

}  // namespace

ConfigError::ConfigError(std::vector<Problem> problems)
    : std::runtime_error(list_problems(problems)), problems_(std::move(problems)) {}

boost::json::object load(const std::vector<std::string>& files, const Environment& environment) {
  const Schema& schema = Schema::embedded();
  std::vector<Problem> problems;

  json::value merged = json::object();
  for (const std::string& file : files) {
    merge_file(file, merged, problems);
  }
  if (!problems.empty()) {
    throw ConfigError(std::move(problems));
  }

  detail::apply_environment(merged, environment, schema, problems);
  normalize_repositories(merged);
  schema.fill_defaults(merged, schema.root());
  schema.validate(merged, schema.root(), "", problems);

  if (!problems.empty()) {
    sort_problems(problems);
    throw ConfigError(std::move(problems));
  }
  return std::move(merged.as_object());
}

std::vector<Problem> validate_handler_config(HandlerKind kind, std::string_view id,
                                             const boost::json::value& config) {
  const Schema& schema = Schema::embedded();
  const HandlerSchema handler = find_handler(schema, kind, id);
  if (!handler.known) {
    return {{"", "unknown " + std::string(family_noun(kind)) + " \"" + std::string(id) +
                     "\"; known: " + known_handlers(schema, kind)}};
  }
  if (!handler.config) {
    return {};  // Handlers without settings ignore their config, as Oathkeeper does.
  }

  std::vector<Problem> problems;
  schema.validate(config.is_null() ? json::value(json::object()) : config, *handler.config, "", problems);
  sort_problems(problems);
  return problems;
}

void apply_handler_defaults(HandlerKind kind, std::string_view id, boost::json::value& config) {
  const Schema& schema = Schema::embedded();
  const HandlerSchema handler = find_handler(schema, kind, id);
  if (!handler.config) {
    return;
  }
  if (config.is_null()) {
    config = json::object();
  }
  schema.fill_defaults(config, *handler.config);
}

}  // namespace gh::config
