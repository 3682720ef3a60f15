#include "pipeline/snapshot.h"

#include <map>

#include <boost/url/parse.hpp>
#include <fmt/format.h>

#include "http/upstream.h"
#include "http/url.h"
#include "pipeline/registry.h"

namespace gh::pipeline {
namespace {

struct KindInfo {
  config::HandlerKind kind;
  std::string_view config_section;  // "authenticators", or "errors" for error handlers
  std::string_view title;           // "Authenticator"
  std::string_view plural;          // "authenticators"
};

constexpr KindInfo kAuthenticators{config::HandlerKind::authenticator, "authenticators",
                                   "Authenticator", "authenticators"};
constexpr KindInfo kAuthorizers{config::HandlerKind::authorizer, "authorizers", "Authorizer",
                                "authorizers"};
constexpr KindInfo kMutators{config::HandlerKind::mutator, "mutators", "Mutator", "mutators"};
constexpr KindInfo kErrorHandlers{config::HandlerKind::error_handler, "errors", "Error handler",
                                  "error handlers"};

const boost::json::object* global_entry(const boost::json::object& document, const KindInfo& info,
                                        std::string_view id) {
  const boost::json::value* section = document.if_contains(info.config_section);
  if (section == nullptr || !section->is_object()) return nullptr;
  if (info.kind == config::HandlerKind::error_handler) {
    section = section->as_object().if_contains("handlers");
    if (section == nullptr || !section->is_object()) return nullptr;
  }
  const boost::json::value* entry = section->as_object().if_contains(id);
  return entry != nullptr && entry->is_object() ? &entry->as_object() : nullptr;
}

// Builds handler instances, sharing one instance among rules whose effective config is the
// same, so ten thousand rules with the same handler cost one instance.
class HandlerBuilder {
 public:
  explicit HandlerBuilder(const boost::json::object& document) : document_(document) {}

  template <typename Handler, typename Map>
  std::shared_ptr<const Handler> build(const KindInfo& info, const Map& factories,
                                       const rules::HandlerRef& ref, std::string_view location,
                                       std::vector<std::string>& problems) {
    auto factory = factories.find(ref.handler);
    if (factory == factories.end()) {
      problems.push_back(fmt::format("Value \"{}\" of \"{}\" is not in list of supported {}: [{}]",
                                     ref.handler, location, info.plural, handler_names(factories)));
      return nullptr;
    }

    const boost::json::object* global = global_entry(document_, info, ref.handler);
    const boost::json::value* enabled = global == nullptr ? nullptr : global->if_contains("enabled");
    if (enabled == nullptr || !enabled->is_bool() || !enabled->as_bool()) {
      problems.push_back(fmt::format("{} \"{}\" is disabled per configuration.", info.title, ref.handler));
      return nullptr;
    }

    auto effective = effective_config(info, ref, global, location, problems);
    if (!effective) return nullptr;

    std::string key = fmt::format("{}/{}/{}", info.config_section, ref.handler,
                                  boost::json::serialize(*effective));
    auto& cache = cache_for<Handler>();
    if (auto cached = cache.find(key); cached != cache.end()) return cached->second;

    auto built = factory->second(*effective);
    if (!built) {
      problems.push_back(fmt::format("Configuration for {} \"{}\" at \"{}\" is invalid: {}",
                                     info.title, ref.handler, location, built.error()));
      return nullptr;
    }
    cache.emplace(std::move(key), *built);
    return *built;
  }

 private:
  std::optional<boost::json::object> effective_config(const KindInfo& info, const rules::HandlerRef& ref,
                                                      const boost::json::object* global,
                                                      std::string_view location,
                                                      std::vector<std::string>& problems) {
    boost::json::value merged = boost::json::object();
    if (const boost::json::value* config = global->if_contains("config");
        config != nullptr && config->is_object()) {
      merged = *config;
    }
    if (!ref.config.is_null()) {
      if (!ref.config.is_object()) {
        problems.push_back(fmt::format("Value of \"{}.config\" must be an object", location));
        return std::nullopt;
      }
      config::deep_merge(merged, ref.config);
    }

    config::apply_handler_defaults(info.kind, ref.handler, merged);
    std::vector<config::Problem> config_problems =
        config::validate_handler_config(info.kind, ref.handler, merged);
    if (!config_problems.empty()) {
      for (const config::Problem& problem : config_problems) {
        problems.push_back(fmt::format("Configuration for {} \"{}\" at \"{}\" could not be validated: {}: {}",
                                       info.title, ref.handler, location,
                                       problem.path.empty() ? "config" : problem.path, problem.message));
      }
      return std::nullopt;
    }
    return merged.as_object();
  }

  template <typename Handler>
  std::map<std::string, std::shared_ptr<const Handler>>& cache_for() {
    if constexpr (std::is_same_v<Handler, Authenticator>) return authenticators_;
    if constexpr (std::is_same_v<Handler, Authorizer>) return authorizers_;
    if constexpr (std::is_same_v<Handler, Mutator>) return mutators_;
    if constexpr (std::is_same_v<Handler, ErrorHandler>) return error_handlers_;
  }

  const boost::json::object& document_;
  std::map<std::string, std::shared_ptr<const Authenticator>> authenticators_;
  std::map<std::string, std::shared_ptr<const Authorizer>> authorizers_;
  std::map<std::string, std::shared_ptr<const Mutator>> mutators_;
  std::map<std::string, std::shared_ptr<const ErrorHandler>> error_handlers_;
};

std::string strip_slashes(std::string_view text) {
  while (!text.empty() && text.front() == '/') text.remove_prefix(1);
  while (!text.empty() && text.back() == '/') text.remove_suffix(1);
  return std::string(text);
}

CompiledRule compile_rule(const rules::Rule& rule, HandlerBuilder& builder, std::vector<std::string>& problems) {
  const Registry& registry = Registry::builtin();
  CompiledRule compiled;
  compiled.rule = &rule;

  if (rule.match_url.empty()) problems.emplace_back("Value \"\" of \"match.url\" field must not be empty.");
  if (!rule.upstream.url.empty()) {
    auto upstream = parse_upstream(rule.upstream);
    if (upstream) {
      compiled.upstream = std::move(*upstream);
    } else {
      problems.push_back(fmt::format("Value \"{}\" of \"upstream.url\" is not a valid url: {}",
                                     rule.upstream.url, upstream.error()));
    }
  }

  if (rule.authenticators.empty()) {
    problems.emplace_back("Value of \"authenticators\" must be set and can not be an empty array.");
  }
  for (size_t i = 0; i < rule.authenticators.size(); ++i) {
    compiled.authenticators.push_back(builder.build<Authenticator>(
        kAuthenticators, registry.authenticators, rule.authenticators[i],
        fmt::format("authenticators[{}]", i), problems));
  }

  if (rule.authorizer.handler.empty()) {
    problems.emplace_back("Value of \"authorizer.handler\" can not be empty.");
  } else {
    compiled.authorizer = builder.build<Authorizer>(kAuthorizers, registry.authorizers,
                                                    rule.authorizer, "authorizer.handler", problems);
  }

  if (rule.mutators.empty()) {
    problems.emplace_back("Value of \"mutators\" must be set and can not be an empty array.");
  }
  for (size_t i = 0; i < rule.mutators.size(); ++i) {
    compiled.mutators.push_back(builder.build<Mutator>(kMutators, registry.mutators, rule.mutators[i],
                                                       fmt::format("mutators[{}]", i), problems));
  }

  for (size_t i = 0; i < rule.errors.size(); ++i) {
    auto handler = builder.build<ErrorHandler>(kErrorHandlers, registry.error_handlers, rule.errors[i],
                                               fmt::format("errors[{}]", i), problems);
    compiled.error_handlers.push_back({rule.errors[i].handler, std::move(handler)});
  }
  return compiled;
}

std::vector<NamedErrorHandler> compile_fallback(const boost::json::object& document, HandlerBuilder& builder,
                                                std::vector<std::string>& problems) {
  std::vector<NamedErrorHandler> fallback;
  const boost::json::value* errors = document.if_contains("errors");
  const boost::json::value* names = nullptr;
  if (errors != nullptr && errors->is_object()) names = errors->as_object().if_contains("fallback");
  if (names == nullptr || !names->is_array()) return fallback;

  for (size_t i = 0; i < names->as_array().size(); ++i) {
    const boost::json::value& name = names->as_array()[i];
    if (!name.is_string()) continue;
    rules::HandlerRef ref{std::string(name.as_string()), nullptr};
    std::vector<std::string> handler_problems;
    auto handler = builder.build<ErrorHandler>(kErrorHandlers, Registry::builtin().error_handlers, ref,
                                               fmt::format("errors.fallback[{}]", i), handler_problems);
    for (std::string& problem : handler_problems) problems.push_back("config: " + problem);
    if (handler) fallback.push_back({ref.handler, std::move(handler)});
  }
  return fallback;
}

bool verbose_json_errors(const boost::json::object& document) {
  const boost::json::object* json = global_entry(document, kErrorHandlers, "json");
  if (json == nullptr) return false;
  const boost::json::value* config = json->if_contains("config");
  if (config == nullptr || !config->is_object()) return false;
  const boost::json::value* verbose = config->as_object().if_contains("verbose");
  return verbose != nullptr && verbose->is_bool() && verbose->as_bool();
}

}  // namespace

Expected<Upstream, std::string> parse_upstream(const rules::Upstream& upstream) {
  auto parsed = boost::urls::parse_absolute_uri(upstream.url);
  if (!parsed) return Unexpected{std::string("expected an absolute http or https URL")};
  // scheme_id() compares case-insensitively, as RFC 3986 requires.
  const boost::urls::scheme scheme = parsed->scheme_id();
  if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https) {
    return Unexpected{
        fmt::format("scheme \"{}\" is not supported; expected http or https", std::string(parsed->scheme()))};
  }
  if (!parsed->has_authority() || parsed->host().empty()) return Unexpected{std::string("missing host")};

  Upstream out;
  out.tls = scheme == boost::urls::scheme::https;
  out.scheme = out.tls ? "https" : "http";
  out.host = parsed->host_address();
  out.port = parsed->has_port() && !parsed->port().empty() ? std::string(parsed->port()) : (out.tls ? "443" : "80");
  out.authority = std::string(parsed->encoded_host_and_port());
  out.path = parsed->path();
  out.preserve_host = upstream.preserve_host;
  std::string strip = strip_slashes(upstream.strip_path);
  if (!strip.empty()) out.strip_path = "/" + strip;
  out.pool_key = http::upstream_pool_key(out.host, out.port, out.tls);
  return out;
}

std::string upstream_path(const Upstream& upstream, std::string_view request_path) {
  if (!upstream.strip_path.empty() && request_path.starts_with(upstream.strip_path)) {
    std::string_view rest = request_path.substr(upstream.strip_path.size());
    if (rest.empty() || rest.front() == '/') request_path = rest;
  }
  while (!request_path.empty() && request_path.front() == '/') request_path.remove_prefix(1);

  std::string path = "/" + strip_slashes(upstream.path);
  if (path.size() > 1) path += '/';
  path += request_path;
  return path;
}

Expected<std::shared_ptr<const Snapshot>, std::vector<std::string>> build_snapshot(
    config::Settings settings, std::vector<rules::Rule> rules) {
  std::vector<std::string> problems;
  auto strategy = rules::parse_strategy(settings.matching_strategy);
  if (!strategy) return Unexpected{std::vector<std::string>{strategy.error()}};

  // Handlers are compiled before the matcher takes the rules, so one load reports pattern
  // problems and handler problems together.
  auto snapshot = std::make_shared<Snapshot>();
  HandlerBuilder builder(settings.document);
  for (const rules::Rule& rule : rules) {
    std::vector<std::string> rule_problems;
    snapshot->rules.push_back(compile_rule(rule, builder, rule_problems));
    for (const std::string& problem : rule_problems) {
      problems.push_back(fmt::format("rule \"{}\": {}", rule.id, problem));
    }
  }
  snapshot->fallback = compile_fallback(settings.document, builder, problems);
  snapshot->verbose_errors = verbose_json_errors(settings.document);

  auto matcher = rules::Matcher::build(std::move(rules), *strategy);
  if (!matcher) {
    problems.insert(problems.end(), matcher.error().begin(), matcher.error().end());
    return Unexpected{std::move(problems)};
  }
  if (!problems.empty()) return Unexpected{std::move(problems)};

  snapshot->matcher = *matcher;
  for (size_t i = 0; i < snapshot->rules.size(); ++i) snapshot->rules[i].rule = &snapshot->matcher->rules()[i];
  snapshot->settings = std::move(settings);
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

std::vector<std::string> validate_rules(const config::Settings& settings,
                                        const std::vector<rules::Rule>& rules) {
  auto snapshot = build_snapshot(settings, rules);
  if (snapshot) return {};
  return snapshot.error();
}

}  // namespace gh::pipeline
