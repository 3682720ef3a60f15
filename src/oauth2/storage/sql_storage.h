// The Storage operations written once in SQL that both SQLite and PostgreSQL accept. A
// backend supplies only connections that run one statement with bound parameters.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "oauth2/storage/storage.h"

namespace gh::oauth2 {

using SqlParam = std::variant<std::nullptr_t, std::string, int64_t>;
using SqlRow = std::vector<std::optional<std::string>>;  // nullopt is SQL NULL

struct SqlResult {
  std::vector<SqlRow> rows;
  int64_t affected = 0;  // rows changed by INSERT, UPDATE or DELETE
};

enum class SqlDialect { sqlite, postgres };

// One database connection, used by one thread at a time.
class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  // Runs one statement. Placeholders are written $1, $2, ... in every dialect. A unique-key
  // violation returns StorageError::Code::conflict.
  virtual StorageResult<SqlResult> run(std::string_view sql, const std::vector<SqlParam>& params) = 0;
};

class SqlStorage : public Storage {
 public:
  StorageResult<int> migrate() override;
  StorageResult<int> schema_version() override;
  StorageResult<void> ping() override;

  StorageResult<void> create_client(const Client& client) override;
  StorageResult<std::optional<Client>> get_client(const std::string& client_id) override;
  StorageResult<ClientPage> list_clients(const ClientFilter& filter) override;
  StorageResult<bool> update_client(const Client& client) override;
  StorageResult<bool> delete_client(const std::string& client_id) override;

  StorageResult<void> insert_token(const TokenRecord& token) override;
  StorageResult<std::optional<TokenRecord>> get_token(const std::string& signature_hash) override;
  StorageResult<bool> revoke_token(const std::string& signature_hash) override;

  StorageResult<bool> record_jti(const std::string& client_id, const std::string& jti, int64_t expires_at) override;

  StorageResult<void> insert_key(const SigningKey& key) override;
  StorageResult<std::vector<SigningKey>> list_keys(int64_t now) override;
  StorageResult<void> retire_keys_except(const std::string& kid, int64_t retire_at) override;

  StorageResult<int64_t> purge(int64_t now) override;

 protected:
  virtual SqlDialect dialect() const = 0;
  // Runs `body` with a connection held for its whole duration (a transaction needs that).
  virtual StorageResult<SqlResult> with_connection(const std::function<StorageResult<SqlResult>(SqlConnection&)>& body) = 0;

 private:
  StorageResult<SqlResult> query(std::string_view sql, std::vector<SqlParam> params);
};

// Migrations in order; migration N (1-based) is entry N-1. Statements are separated by ";\n".
const std::vector<std::string_view>& schema_migrations();

}  // namespace gh::oauth2
