// Starting the token service inside `gatehouse serve`.
#pragma once

#include <memory>
#include <string>

#include "common/expected.h"
#include "config/config.h"
#include "http/server.h"

namespace gh::oauth2 {

// A running token service: its storage, blocking-call pool and purge thread. Destroying it
// stops the purge thread and the pool; shut the HTTP server down first.
class RunningService {
 public:
  virtual ~RunningService() = default;
};

// When `oauth2.enabled` is true, opens storage, prepares it and the signing key, and binds
// the public and admin listeners on `server`. Returns null when the token service is
// disabled, and a message naming the cause when it cannot start.
gh::Expected<std::unique_ptr<RunningService>, std::string> start(http::Server& server, const config::Settings& settings);

}  // namespace gh::oauth2
