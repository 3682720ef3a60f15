#include "oauth2/storage/sql_storage.h"

#include <charconv>

#include <boost/json.hpp>

#include "oauth2/form.h"

namespace gh::oauth2 {
namespace {

namespace json = boost::json;

// Key of the PostgreSQL advisory lock that serializes migrations of concurrent replicas
// (any fixed 64-bit number; this one spells "gatehous" in ASCII).
constexpr std::string_view kMigrationLock = "SELECT pg_advisory_xact_lock(7449354355689264499)";

constexpr std::string_view kMigrationTable =
    "CREATE TABLE IF NOT EXISTS gatehouse_schema_migrations ("
    "version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)";

constexpr std::string_view kMigration1 = R"sql(
CREATE TABLE gatehouse_oauth2_clients (
  id TEXT PRIMARY KEY,
  client_name TEXT NOT NULL,
  owner TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE gatehouse_oauth2_access_tokens (
  signature TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  subject TEXT NOT NULL,
  scope TEXT NOT NULL,
  audience TEXT NOT NULL,
  strategy TEXT NOT NULL,
  issued_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX gatehouse_oauth2_access_tokens_expires_at ON gatehouse_oauth2_access_tokens (expires_at);
CREATE INDEX gatehouse_oauth2_access_tokens_client_id ON gatehouse_oauth2_access_tokens (client_id);
CREATE TABLE gatehouse_oauth2_jti (
  client_id TEXT NOT NULL,
  jti TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (client_id, jti)
);
CREATE TABLE gatehouse_oauth2_keys (
  kid TEXT PRIMARY KEY,
  algorithm TEXT NOT NULL,
  private_key TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  retire_at BIGINT
))sql";

constexpr std::string_view kClientColumns = "id, secret_hash, data, created_at, updated_at";

int64_t to_int(const std::optional<std::string>& text) {
  int64_t value = 0;
  if (text) std::from_chars(text->data(), text->data() + text->size(), value);
  return value;
}

std::vector<std::string_view> split_statements(std::string_view script) {
  std::vector<std::string_view> statements;
  for (;;) {
    std::size_t end = script.find(";\n");
    std::string_view statement = script.substr(0, end);
    if (statement.find_first_not_of(" \n") != std::string_view::npos) statements.push_back(statement);
    if (end == std::string_view::npos) return statements;
    script = script.substr(end + 2);
  }
}

StorageResult<Client> client_from_row(const SqlRow& row) {
  Client client;
  client.client_id = row[0].value_or("");
  client.secret_hash = row[1].value_or("");
  client.created_at = to_int(row[3]);
  client.updated_at = to_int(row[4]);
  if (!client_data_from_text(row[2].value_or(""), client)) {
    return gh::Unexpected(StorageError{StorageError::Code::failed, "stored data of client " + client.client_id + " is corrupt"});
  }
  return client;
}

std::string audience_text(const std::vector<std::string>& audience) {
  json::array array;
  for (const std::string& item : audience) array.emplace_back(item);
  return json::serialize(array);
}

std::vector<std::string> audience_from_text(const std::optional<std::string>& text) {
  std::vector<std::string> audience;
  boost::system::error_code ec;
  json::value value = json::parse(text.value_or("[]"), ec);
  if (ec || !value.is_array()) return audience;
  for (const json::value& item : value.as_array()) {
    if (item.is_string()) audience.emplace_back(item.as_string());
  }
  return audience;
}

template <typename T>
StorageResult<T> fail(StorageError error) {
  return gh::Unexpected(std::move(error));
}

}  // namespace

const std::vector<std::string_view>& schema_migrations() {
  static const std::vector<std::string_view> migrations = {kMigration1};
  return migrations;
}

int latest_schema_version() { return static_cast<int>(schema_migrations().size()); }

StorageResult<SqlResult> SqlStorage::query(std::string_view sql, std::vector<SqlParam> params) {
  return with_connection([&](SqlConnection& connection) { return connection.run(sql, params); });
}

StorageResult<int> SqlStorage::migrate() {
  int version = 0;
  auto result = with_connection([&](SqlConnection& connection) -> StorageResult<SqlResult> {
    // Every statement of the upgrade runs in one transaction: a failure leaves the schema as
    // it was, and a concurrent migrate waits instead of applying the same step twice.
    std::string_view begin = dialect() == SqlDialect::sqlite ? "BEGIN IMMEDIATE" : "BEGIN";
    auto step = connection.run(begin, {});
    if (!step) return step;
    auto body = [&]() -> StorageResult<SqlResult> {
      if (dialect() == SqlDialect::postgres) {
        if (auto locked = connection.run(kMigrationLock, {}); !locked) return locked;
      }
      if (auto created = connection.run(kMigrationTable, {}); !created) return created;
      auto current = connection.run("SELECT COALESCE(MAX(version), 0) FROM gatehouse_schema_migrations", {});
      if (!current) return current;
      version = static_cast<int>(to_int(current->rows.at(0).at(0)));
      const auto& migrations = schema_migrations();
      for (std::size_t index = static_cast<std::size_t>(version); index < migrations.size(); ++index) {
        for (std::string_view statement : split_statements(migrations[index])) {
          if (auto applied = connection.run(statement, {}); !applied) return applied;
        }
        version = static_cast<int>(index + 1);
        auto recorded = connection.run("INSERT INTO gatehouse_schema_migrations (version, applied_at) VALUES ($1, $2)",
                                       {int64_t{version}, static_cast<int64_t>(std::time(nullptr))});
        if (!recorded) return recorded;
      }
      return connection.run("COMMIT", {});
    };
    auto outcome = body();
    if (!outcome) (void)connection.run("ROLLBACK", {});
    return outcome;
  });
  if (!result) return fail<int>(result.error());
  return version;
}

StorageResult<int> SqlStorage::schema_version() {
  auto table = query(dialect() == SqlDialect::sqlite
                         ? "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'gatehouse_schema_migrations'"
                         : "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'gatehouse_schema_migrations'",
                     {});
  if (!table) return fail<int>(table.error());
  if (to_int(table->rows.at(0).at(0)) == 0) return 0;
  auto current = query("SELECT COALESCE(MAX(version), 0) FROM gatehouse_schema_migrations", {});
  if (!current) return fail<int>(current.error());
  return static_cast<int>(to_int(current->rows.at(0).at(0)));
}

StorageResult<void> SqlStorage::ping() {
  auto result = query("SELECT 1", {});
  if (!result) return fail<void>(result.error());
  return {};
}

StorageResult<void> SqlStorage::create_client(const Client& client) {
  auto result = query("INSERT INTO gatehouse_oauth2_clients (id, client_name, owner, secret_hash, data, created_at, updated_at) "
                      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                      {client.client_id, client.client_name, client.owner, client.secret_hash,
                       client_data_to_text(client), client.created_at, client.updated_at});
  if (!result) return fail<void>(result.error());
  return {};
}

StorageResult<std::optional<Client>> SqlStorage::get_client(const std::string& client_id) {
  auto result = query(std::string("SELECT ") + std::string(kClientColumns) + " FROM gatehouse_oauth2_clients WHERE id = $1",
                      {client_id});
  if (!result) return fail<std::optional<Client>>(result.error());
  if (result->rows.empty()) return std::optional<Client>();
  auto client = client_from_row(result->rows.front());
  if (!client) return fail<std::optional<Client>>(client.error());
  return std::optional<Client>(std::move(*client));
}

StorageResult<ClientPage> SqlStorage::list_clients(const ClientFilter& filter) {
  // Keyset pagination on the id: one more row than the page is read to learn whether
  // another page follows.
  std::string sql = std::string("SELECT ") + std::string(kClientColumns) +
                    " FROM gatehouse_oauth2_clients WHERE id > $1 AND (CAST($2 AS TEXT) = '' OR client_name = $2) "
                    "AND (CAST($3 AS TEXT) = '' OR owner = $3) ORDER BY id LIMIT $4";
  auto result = query(sql, {filter.page_token, filter.client_name, filter.owner, static_cast<int64_t>(filter.page_size + 1)});
  if (!result) return fail<ClientPage>(result.error());

  ClientPage page;
  for (const SqlRow& row : result->rows) {
    if (page.clients.size() == filter.page_size) {
      page.next_page_token = page.clients.back().client_id;
      break;
    }
    auto client = client_from_row(row);
    if (!client) return fail<ClientPage>(client.error());
    page.clients.push_back(std::move(*client));
  }
  return page;
}

StorageResult<bool> SqlStorage::update_client(const Client& client) {
  auto result = query("UPDATE gatehouse_oauth2_clients SET client_name = $2, owner = $3, secret_hash = $4, data = $5, "
                      "updated_at = $6 WHERE id = $1",
                      {client.client_id, client.client_name, client.owner, client.secret_hash, client_data_to_text(client),
                       client.updated_at});
  if (!result) return fail<bool>(result.error());
  return result->affected > 0;
}

StorageResult<bool> SqlStorage::delete_client(const std::string& client_id) {
  auto tokens = query("DELETE FROM gatehouse_oauth2_access_tokens WHERE client_id = $1", {client_id});
  if (!tokens) return fail<bool>(tokens.error());
  auto result = query("DELETE FROM gatehouse_oauth2_clients WHERE id = $1", {client_id});
  if (!result) return fail<bool>(result.error());
  return result->affected > 0;
}

StorageResult<void> SqlStorage::insert_token(const TokenRecord& token) {
  auto result = query("INSERT INTO gatehouse_oauth2_access_tokens (signature, client_id, subject, scope, audience, strategy, "
                      "issued_at, expires_at, revoked) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                      {token.signature_hash, token.client_id, token.subject, join_spaces(token.scopes),
                       audience_text(token.audience), token.strategy, token.issued_at, token.expires_at,
                       int64_t{token.revoked ? 1 : 0}});
  if (!result) return fail<void>(result.error());
  return {};
}

StorageResult<std::optional<TokenRecord>> SqlStorage::get_token(const std::string& signature_hash) {
  auto result = query("SELECT signature, client_id, subject, scope, audience, strategy, issued_at, expires_at, revoked "
                      "FROM gatehouse_oauth2_access_tokens WHERE signature = $1",
                      {signature_hash});
  if (!result) return fail<std::optional<TokenRecord>>(result.error());
  if (result->rows.empty()) return std::optional<TokenRecord>();
  const SqlRow& row = result->rows.front();
  TokenRecord token;
  token.signature_hash = row[0].value_or("");
  token.client_id = row[1].value_or("");
  token.subject = row[2].value_or("");
  token.scopes = split_spaces(row[3].value_or(""));
  token.audience = audience_from_text(row[4]);
  token.strategy = row[5].value_or("");
  token.issued_at = to_int(row[6]);
  token.expires_at = to_int(row[7]);
  token.revoked = to_int(row[8]) != 0;
  return std::optional<TokenRecord>(std::move(token));
}

StorageResult<bool> SqlStorage::revoke_token(const std::string& signature_hash) {
  auto result = query("UPDATE gatehouse_oauth2_access_tokens SET revoked = 1 WHERE signature = $1", {signature_hash});
  if (!result) return fail<bool>(result.error());
  return result->affected > 0;
}

StorageResult<bool> SqlStorage::record_jti(const std::string& client_id, const std::string& jti, int64_t expires_at) {
  auto result = query("INSERT INTO gatehouse_oauth2_jti (client_id, jti, expires_at) VALUES ($1, $2, $3) "
                      "ON CONFLICT DO NOTHING",
                      {client_id, jti, expires_at});
  if (!result) return fail<bool>(result.error());
  return result->affected > 0;
}

StorageResult<void> SqlStorage::insert_key(const SigningKey& key) {
  SqlParam retire = key.retire_at ? SqlParam(*key.retire_at) : SqlParam(nullptr);
  auto result = query("INSERT INTO gatehouse_oauth2_keys (kid, algorithm, private_key, created_at, retire_at) "
                      "VALUES ($1, $2, $3, $4, $5)",
                      {key.kid, key.algorithm, key.sealed_private_jwk, key.created_at, retire});
  if (!result) return fail<void>(result.error());
  return {};
}

StorageResult<std::vector<SigningKey>> SqlStorage::list_keys(int64_t now) {
  auto result = query("SELECT kid, algorithm, private_key, created_at, retire_at FROM gatehouse_oauth2_keys "
                      "WHERE retire_at IS NULL OR retire_at > $1 ORDER BY created_at DESC, kid DESC",
                      {now});
  if (!result) return fail<std::vector<SigningKey>>(result.error());
  std::vector<SigningKey> keys;
  for (const SqlRow& row : result->rows) {
    SigningKey key;
    key.kid = row[0].value_or("");
    key.algorithm = row[1].value_or("");
    key.sealed_private_jwk = row[2].value_or("");
    key.created_at = to_int(row[3]);
    if (row[4]) key.retire_at = to_int(row[4]);
    keys.push_back(std::move(key));
  }
  return keys;
}

StorageResult<void> SqlStorage::retire_keys_except(const std::string& kid, int64_t retire_at) {
  auto result = query("UPDATE gatehouse_oauth2_keys SET retire_at = $2 WHERE retire_at IS NULL AND kid <> $1",
                      {kid, retire_at});
  if (!result) return fail<void>(result.error());
  return {};
}

StorageResult<int64_t> SqlStorage::purge(int64_t now) {
  auto tokens = query("DELETE FROM gatehouse_oauth2_access_tokens WHERE expires_at <= $1", {now});
  if (!tokens) return fail<int64_t>(tokens.error());
  auto jti = query("DELETE FROM gatehouse_oauth2_jti WHERE expires_at <= $1", {now});
  if (!jti) return fail<int64_t>(jti.error());
  auto keys = query("DELETE FROM gatehouse_oauth2_keys WHERE retire_at IS NOT NULL AND retire_at <= $1", {now});
  if (!keys) return fail<int64_t>(keys.error());
  return tokens->affected;
}

}  // namespace gh::oauth2
