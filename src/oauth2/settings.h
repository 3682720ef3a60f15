// The typed view of the `oauth2` config section.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "common/duration.h"
#include "common/expected.h"
#include "jose/jws.h"
#include "oauth2/scope.h"

namespace gh::oauth2 {

struct ListenerSettings {
  std::string host;
  uint16_t port = 0;
  Duration read_timeout = std::chrono::seconds(5);
  Duration write_timeout = std::chrono::seconds(120);
  Duration idle_timeout = std::chrono::seconds(120);
};

struct Settings {
  bool enabled = false;
  std::string issuer;  // as configured; the iss claim
  std::string dsn = "memory";
  ListenerSettings public_listener;
  ListenerSettings admin_listener;
  std::string access_token_strategy = "opaque";  // opaque or jwt
  ScopeStrategy scope_strategy = ScopeStrategy::wildcard;
  std::chrono::seconds access_token_ttl = std::chrono::hours(1);
  // The first secret signs opaque tokens and seals stored keys; all of them are accepted.
  std::vector<std::string> system_secrets;
  std::string jwt_typ = "JWT";
  jose::Algorithm jwt_algorithm = jose::Algorithm::rs256;
  Duration purge_interval = std::chrono::minutes(1);

  // issuer without trailing slashes + "/oauth2/token", and the like.
  std::string endpoint(std::string_view path) const;
};

// Reads the `oauth2` section of a loaded config document (defaults already filled).
// Fails with a message naming the key when a value is unusable, for example a missing issuer
// while the token service is enabled, or a missing system secret with a persistent DSN.
gh::Expected<Settings, std::string> read_settings(const boost::json::object& document);

}  // namespace gh::oauth2
