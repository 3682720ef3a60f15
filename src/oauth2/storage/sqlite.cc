#include "oauth2/storage/sqlite.h"

#include <sqlite3.h>

#include <mutex>
#include <unordered_map>

#include <fmt/format.h>

#include "oauth2/storage/sql_storage.h"

namespace gh::oauth2 {
namespace {

// Time a statement waits for a lock held by another connection to the same file.
constexpr int kBusyTimeoutMilliseconds = 5000;

// SQLite numbers placeholders ?1, ?2 ...; the shared SQL writes them $1, $2 ...
std::string to_sqlite_placeholders(std::string_view sql) {
  std::string out(sql);
  for (std::size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == '$' && out[i + 1] >= '0' && out[i + 1] <= '9') out[i] = '?';
  }
  return out;
}

class SqliteConnection final : public SqlConnection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}

  ~SqliteConnection() override {
    for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
    sqlite3_close(db_);
  }

  StorageResult<SqlResult> run(std::string_view sql, const std::vector<SqlParam>& params) override {
    sqlite3_stmt* statement = prepare(sql);
    if (!statement) return failure("prepare");

    for (std::size_t i = 0; i < params.size(); ++i) bind(statement, static_cast<int>(i + 1), params[i]);

    SqlResult result;
    int code = SQLITE_ROW;
    while ((code = sqlite3_step(statement)) == SQLITE_ROW) {
      SqlRow row;
      int columns = sqlite3_column_count(statement);
      for (int column = 0; column < columns; ++column) {
        if (sqlite3_column_type(statement, column) == SQLITE_NULL) {
          row.emplace_back(std::nullopt);
          continue;
        }
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
        row.emplace_back(std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(statement, column))));
      }
      result.rows.push_back(std::move(row));
    }
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    if (code != SQLITE_DONE) {
      if ((code & 0xFF) == SQLITE_CONSTRAINT) {
        return gh::Unexpected(StorageError{StorageError::Code::conflict, sqlite3_errstr(code)});
      }
      return failure("step");
    }
    result.affected = sqlite3_changes64(db_);
    return result;
  }

 private:
  sqlite3_stmt* prepare(std::string_view sql) {
    std::string key(sql);
    if (auto found = statements_.find(key); found != statements_.end()) return found->second;
    std::string converted = to_sqlite_placeholders(sql);
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, converted.c_str(), static_cast<int>(converted.size()), &statement, nullptr) != SQLITE_OK) {
      return nullptr;
    }
    statements_.emplace(std::move(key), statement);
    return statement;
  }

  static void bind(sqlite3_stmt* statement, int index, const SqlParam& param) {
    if (const auto* text = std::get_if<std::string>(&param)) {
      sqlite3_bind_text(statement, index, text->data(), static_cast<int>(text->size()), SQLITE_TRANSIENT);
    } else if (const auto* number = std::get_if<int64_t>(&param)) {
      sqlite3_bind_int64(statement, index, *number);
    } else {
      sqlite3_bind_null(statement, index);
    }
  }

  gh::Unexpected<StorageError> failure(std::string_view step) {
    return gh::Unexpected(StorageError{StorageError::Code::failed, fmt::format("sqlite {}: {}", step, sqlite3_errmsg(db_))});
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

class SqliteStorage final : public SqlStorage {
 public:
  explicit SqliteStorage(std::unique_ptr<SqliteConnection> connection) : connection_(std::move(connection)) {}

 protected:
  SqlDialect dialect() const override { return SqlDialect::sqlite; }

  StorageResult<SqlResult> with_connection(const std::function<StorageResult<SqlResult>(SqlConnection&)>& body) override {
    std::lock_guard lock(mutex_);
    return body(*connection_);
  }

 private:
  std::mutex mutex_;  // one statement at a time: a SQLite connection is not shared between threads
  std::unique_ptr<SqliteConnection> connection_;
};

}  // namespace

gh::Expected<std::unique_ptr<Storage>, std::string> open_sqlite(const std::string& path) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return gh::Unexpected(fmt::format("cannot open SQLite database \"{}\": {}", path, message));
  }
  auto connection = std::make_unique<SqliteConnection>(db);
  sqlite3_busy_timeout(db, kBusyTimeoutMilliseconds);

  std::string pragmas = "PRAGMA foreign_keys = ON";
  if (path != ":memory:") pragmas += "; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL";
  char* error = nullptr;
  if (sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    return gh::Unexpected(fmt::format("cannot configure SQLite database \"{}\": {}", path, message));
  }
  return std::unique_ptr<Storage>(std::make_unique<SqliteStorage>(std::move(connection)));
}

}  // namespace gh::oauth2
