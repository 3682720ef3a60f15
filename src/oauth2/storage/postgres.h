// The PostgreSQL backend, through libpq. Several token-service processes may share one
// database: every state change is a single statement or a transaction.
#pragma once

#include <memory>
#include <string>

#include "common/expected.h"
#include "oauth2/storage/storage.h"

namespace gh::oauth2 {

// Connections kept open per process. Storage calls run on the token service's blocking-call
// pool, which has the same size, so no call waits for a connection in normal operation.
inline constexpr std::size_t kPostgresConnections = 4;

// Opens a pool of connections to `url` (a libpq connection URI, postgres://...).
// Fails when the first connection cannot be made.
gh::Expected<std::unique_ptr<Storage>, std::string> open_postgres(const std::string& url,
                                                                   std::size_t connections = kPostgresConnections);

}  // namespace gh::oauth2
