// A minimal blocking HTTP/1.1 client for the CLI commands that talk to the token service's
// admin API (`clients`, `keys`).
#pragma once

#include <string>

#include "common/expected.h"

namespace gh::app {

struct AdminResponse {
  unsigned status = 0;
  std::string body;
};

// Sends `method` to `endpoint` + `path` with an optional JSON body. Fails with a message
// when the endpoint is not an http URL or the server cannot be reached within 10 s.
gh::Expected<AdminResponse, std::string> admin_request(const std::string& endpoint, const std::string& method,
                                                       const std::string& path, const std::string& body = {});

}  // namespace gh::app
