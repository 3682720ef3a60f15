// The compiled form of config plus access rules that the request path reads.
//
// A snapshot is built once per config or rule change and never modified; requests hold a
// shared_ptr to the snapshot they started with, so a reload never disturbs them. Every
// handler of every rule is built here, from its effective config (the global config with
// the rule's config deep-merged over it), so a bad rule fails the load instead of failing
// requests.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "config/config.h"
#include "pipeline/handler.h"
#include "rules/matcher.h"

namespace gh::pipeline {

struct NamedErrorHandler {
  std::string name;
  std::shared_ptr<const ErrorHandler> handler;
};

// A parsed upstream.url with the rule's forwarding options.
struct Upstream {
  std::string scheme;  // "http" or "https"
  bool tls = false;    // scheme is https
  std::string host;    // without port, and without brackets for IPv6
  std::string port;    // always set ("80" or "443" when the URL has none)
  std::string authority;  // host[:port] as written, for the Host header
  std::string path;    // decoded, without trailing slash handling
  bool preserve_host = false;
  std::string strip_path;  // normalized to "/segment…" without trailing slash, or empty
  std::string pool_key;    // http::upstream_pool_key of scheme, host and port
};

struct CompiledRule {
  const rules::Rule* rule = nullptr;  // owned by the snapshot's matcher
  std::vector<std::shared_ptr<const Authenticator>> authenticators;
  std::shared_ptr<const Authorizer> authorizer;
  std::vector<std::shared_ptr<const Mutator>> mutators;
  std::vector<NamedErrorHandler> error_handlers;
  std::optional<Upstream> upstream;  // empty when the rule has no upstream.url
};

struct Snapshot {
  config::Settings settings;
  std::shared_ptr<const rules::Matcher> matcher;
  std::vector<CompiledRule> rules;         // same order as matcher->rules()
  std::vector<NamedErrorHandler> fallback;  // errors.fallback, from the global configs
  bool verbose_errors = false;             // errors.handlers.json.config.verbose
};

// Builds a snapshot. The error lists every problem, each naming the rule id.
Expected<std::shared_ptr<const Snapshot>, std::vector<std::string>> build_snapshot(
    config::Settings settings, std::vector<rules::Rule> rules);

// Checks rules against a config without keeping the result (for rule-file reloads and
// `gatehouse config validate`).
std::vector<std::string> validate_rules(const config::Settings& settings,
                                        const std::vector<rules::Rule>& rules);

// Parses upstream.url ("http://host:port/path" or "https://host:port/path"). The error describes what is wrong.
Expected<Upstream, std::string> parse_upstream(const rules::Upstream& upstream);

// The path to request upstream: the rule's strip_path removed from the front of the request
// path (only at a segment boundary), then joined to the upstream path with one '/'. A
// trailing slash of the request path is kept.
std::string upstream_path(const Upstream& upstream, std::string_view request_path);

}  // namespace gh::pipeline
