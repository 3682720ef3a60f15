#include "oauth2/settings.h"

#include <fmt/format.h>

namespace gh::oauth2 {
namespace {

namespace json = boost::json;

const json::object* object_at(const json::object& parent, std::string_view key) {
  const json::value* value = parent.if_contains(key);
  return value ? value->if_object() : nullptr;
}

std::string string_at(const json::object* parent, std::string_view key, std::string fallback) {
  if (!parent) return fallback;
  const json::value* value = parent->if_contains(key);
  return value && value->is_string() ? std::string(value->as_string()) : fallback;
}

gh::Expected<Duration, std::string> duration_at(const json::object* parent, std::string_view key, std::string_view path,
                                                Duration fallback) {
  if (!parent || !parent->contains(key)) return fallback;
  std::string text = string_at(parent, key, "");
  std::optional<Duration> duration = parse_duration(text);
  if (!duration) return gh::Unexpected(fmt::format("{}: invalid duration \"{}\"", path, text));
  return *duration;
}

gh::Expected<ListenerSettings, std::string> read_listener(const json::object* serve, std::string_view name,
                                                          uint16_t default_port) {
  ListenerSettings listener;
  listener.port = default_port;
  const json::object* node = serve ? object_at(*serve, name) : nullptr;
  if (!node) return listener;
  listener.host = string_at(node, "host", "");
  if (const json::value* port = node->if_contains("port"); port && port->is_int64()) {
    listener.port = static_cast<uint16_t>(port->as_int64());
  }
  const json::object* timeout = object_at(*node, "timeout");
  std::string prefix = fmt::format("oauth2.serve.{}.timeout", name);
  auto read = duration_at(timeout, "read", prefix + ".read", listener.read_timeout);
  auto write = duration_at(timeout, "write", prefix + ".write", listener.write_timeout);
  auto idle = duration_at(timeout, "idle", prefix + ".idle", listener.idle_timeout);
  if (!read) return gh::Unexpected(read.error());
  if (!write) return gh::Unexpected(write.error());
  if (!idle) return gh::Unexpected(idle.error());
  listener.read_timeout = *read;
  listener.write_timeout = *write;
  listener.idle_timeout = *idle;
  return listener;
}

}  // namespace

std::string Settings::endpoint(std::string_view path) const {
  std::string_view base = issuer;
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  return std::string(base) + std::string(path);
}

gh::Expected<Settings, std::string> read_settings(const json::object& document) {
  Settings settings;
  const json::object* section = object_at(document, "oauth2");
  if (!section) return settings;

  if (const json::value* enabled = section->if_contains("enabled"); enabled && enabled->is_bool()) {
    settings.enabled = enabled->as_bool();
  }
  settings.issuer = string_at(section, "issuer", "");
  settings.dsn = string_at(section, "dsn", "memory");
  if (settings.enabled && settings.issuer.empty()) {
    return gh::Unexpected(std::string("oauth2.issuer is missing: the token service needs its issuer URL, for example "
                                      "http://127.0.0.1:4444/"));
  }

  const json::object* serve = object_at(*section, "serve");
  auto public_listener = read_listener(serve, "public", 4444);
  auto admin_listener = read_listener(serve, "admin", 4445);
  if (!public_listener) return gh::Unexpected(public_listener.error());
  if (!admin_listener) return gh::Unexpected(admin_listener.error());
  settings.public_listener = *public_listener;
  settings.admin_listener = *admin_listener;

  const json::object* strategies = object_at(*section, "strategies");
  settings.access_token_strategy = string_at(strategies, "access_token", "opaque");
  settings.scope_strategy = string_at(strategies, "scope", "wildcard") == "exact" ? ScopeStrategy::exact
                                                                                  : ScopeStrategy::wildcard;

  auto ttl = duration_at(object_at(*section, "ttl"), "access_token", "oauth2.ttl.access_token", std::chrono::hours(1));
  if (!ttl) return gh::Unexpected(ttl.error());
  settings.access_token_ttl = std::chrono::duration_cast<std::chrono::seconds>(*ttl);
  if (settings.access_token_ttl.count() < 1) {
    return gh::Unexpected(std::string("oauth2.ttl.access_token must be at least 1s"));
  }

  if (const json::object* secrets = object_at(*section, "secrets")) {
    if (const json::value* system = secrets->if_contains("system"); system && system->is_array()) {
      for (const json::value& item : system->as_array()) {
        if (item.is_string()) settings.system_secrets.emplace_back(item.as_string());
      }
    }
  }
  if (settings.enabled && settings.system_secrets.empty() && settings.dsn != "memory") {
    return gh::Unexpected(std::string("oauth2.secrets.system is missing: a persistent DSN needs at least one system "
                                      "secret of 32 bytes or more, so tokens and keys stay valid across restarts"));
  }

  const json::object* jwt = object_at(*section, "jwt");
  settings.jwt_typ = string_at(jwt, "typ", "JWT");
  settings.jwt_algorithm = jose::parse_algorithm(string_at(jwt, "algorithm", "RS256")).value_or(jose::Algorithm::rs256);

  auto purge = duration_at(section, "purge_interval", "oauth2.purge_interval", std::chrono::minutes(1));
  if (!purge) return gh::Unexpected(purge.error());
  if (*purge < std::chrono::milliseconds(100)) {
    return gh::Unexpected(std::string("oauth2.purge_interval must be at least 100ms"));
  }
  settings.purge_interval = *purge;
  return settings;
}

}  // namespace gh::oauth2
