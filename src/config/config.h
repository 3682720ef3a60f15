// Loading and validation of gatehouse's config, which uses Oathkeeper's format.
//
// A config is one or more YAML or JSON files (later files deep-merged over earlier ones),
// then environment overrides (SERVE_PROXY_PORT=4460 sets serve.proxy.port), then the
// defaults of the schema for every key that is still absent. The result is validated
// against the full key set; every problem is collected, not only the first.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "common/duration.h"

namespace gh::config {

// One validation problem: the dotted key path ("serve.proxy.port", "access_rules.repositories[1]")
// and a message that states the value found and what is allowed.
struct Problem {
  std::string path;
  std::string message;
};

// Raised while loading; carries every problem found. what() lists them one per line.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<Problem> problems);
  const std::vector<Problem>& problems() const { return problems_; }

 private:
  std::vector<Problem> problems_;
};

// Environment variables, name to value. Injected so tests do not depend on the process.
using Environment = std::map<std::string, std::string>;
Environment process_environment();

// Parses YAML or JSON text into a JSON value. JSON is tried first; YAML scalars become
// JSON booleans, numbers and null by the YAML 1.2 core schema, quoted scalars stay strings.
// `origin` names the source in error messages. Throws ConfigError.
boost::json::value parse_document(std::string_view text, std::string_view origin);

// Merges `overlay` into `base`: objects key by key, recursively; any other value replaces.
void deep_merge(boost::json::value& base, const boost::json::value& overlay);

// Reads, merges, overrides from `environment`, fills defaults and validates.
// Throws ConfigError listing every problem (unreadable files included).
boost::json::object load(const std::vector<std::string>& files, const Environment& environment);

// Handler families, as named in the config ("authenticators", "authorizers", "mutators",
// "errors.handlers").
enum class HandlerKind { authenticator, authorizer, mutator, error_handler };

// Validates one handler's effective config (global config with a rule's config merged over
// it, defaults filled) against that handler's schema. Problem paths are relative to the
// handler config ("headers.X-User"). An unknown handler id is one problem with an empty path.
std::vector<Problem> validate_handler_config(HandlerKind kind, std::string_view id,
                                             const boost::json::value& config);

// Fills the schema defaults of one handler's config in place (used after a rule's
// config has been merged over the global one).
void apply_handler_defaults(HandlerKind kind, std::string_view id, boost::json::value& config);

struct TlsSettings {
  std::string cert_pem;
  std::string key_pem;
};

struct ServerSettings {
  std::string host;
  uint16_t port = 0;
  Duration read_timeout{};
  Duration write_timeout{};
  Duration idle_timeout{};
  bool trust_forwarded_headers = false;  // proxy only
  std::optional<TlsSettings> tls;
};

// The typed view of the keys the servers read at start-up. Handler configs stay JSON in
// `document` and are read by each handler when rules are compiled.
struct Settings {
  ServerSettings proxy;
  ServerSettings api;
  std::string log_level;   // panic, fatal, error, warn, info, debug, trace
  std::string log_format;  // text, json, json_pretty, gelf
  std::string matching_strategy;           // regexp or glob
  std::vector<std::string> repositories;   // access_rules.repositories
  boost::json::object document;            // the whole validated config, defaults filled
};

// Builds the typed view of a document returned by load(). Throws ConfigError for values
// that pass the schema but cannot be used (an unreadable TLS file, say).
Settings to_settings(const boost::json::object& document);

}  // namespace gh::config
