// The SQLite backend: one connection shared under a mutex, prepared statements cached.
// A file database runs in WAL mode with a busy timeout, so a `migrate sql` or a second
// process on the same file waits instead of failing.
#pragma once

#include <memory>
#include <string>

#include "common/expected.h"
#include "oauth2/storage/storage.h"

namespace gh::oauth2 {

// Opens `path`, or a private in-memory database when `path` is ":memory:".
gh::Expected<std::unique_ptr<Storage>, std::string> open_sqlite(const std::string& path);

}  // namespace gh::oauth2
