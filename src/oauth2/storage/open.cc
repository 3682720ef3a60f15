// Chooses the storage backend from a DSN.
#include <fmt/format.h>

#include "oauth2/storage/postgres.h"
#include "oauth2/storage/sqlite.h"
#include "oauth2/storage/storage.h"

namespace gh::oauth2 {

gh::Expected<std::unique_ptr<Storage>, std::string> open_storage(const std::string& dsn) {
  constexpr std::string_view kSqlite = "sqlite://";
  if (dsn == "memory") return open_sqlite(":memory:");
  if (dsn.starts_with(kSqlite)) {
    // Query parameters of Hydra-style DSNs (?_fk=true&mode=rwc) have no meaning here.
    std::string path = dsn.substr(kSqlite.size(), dsn.find('?') == std::string::npos ? std::string::npos
                                                                                        : dsn.find('?') - kSqlite.size());
    if (path.empty()) return gh::Unexpected(std::string("the sqlite:// DSN names no file; write sqlite:///path/to/file.db"));
    return open_sqlite(path);
  }
  if (dsn.starts_with("postgres://") || dsn.starts_with("postgresql://")) return open_postgres(dsn);
  return gh::Unexpected(fmt::format("unsupported DSN scheme in \"{}\": use memory, sqlite:///path/to/file.db or "
                                    "postgres://user:password@host:port/database",
                                    dsn.substr(0, dsn.find(':'))));
}

}  // namespace gh::oauth2
