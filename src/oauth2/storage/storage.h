// The token service's storage interface. Two backends implement it: SQLite (embedded; a
// file or memory) and PostgreSQL (several token-service replicas share one database).
//
// Every method blocks on the database, so callers on the request path run them on the
// service's blocking-call pool (see TokenService), never on an HTTP worker thread.
// Implementations are safe to call from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "oauth2/client.h"

namespace gh::oauth2 {

// A storage failure; `message` is for logs and never contains a secret or token.
struct StorageError {
  enum class Code { conflict, failed } code = Code::failed;
  std::string message;
};

template <typename T>
using StorageResult = gh::Expected<T, StorageError>;

// One issued access token. Only a hash of the token's signature part is stored, so a
// database leak does not leak usable tokens.
struct TokenRecord {
  std::string signature_hash;  // SHA-256 hex of the signature part
  std::string client_id;
  std::string subject;
  std::vector<std::string> scopes;
  std::vector<std::string> audience;
  std::string strategy;  // "opaque" or "jwt"
  int64_t issued_at = 0;   // unix seconds
  int64_t expires_at = 0;  // unix seconds
  bool revoked = false;
};

// One JWT signing key. The private JWK is stored sealed with the system secret.
struct SigningKey {
  std::string kid;
  std::string algorithm;
  std::string sealed_private_jwk;
  int64_t created_at = 0;
  // When set, the key no longer signs and is published until this unix time, after which
  // every token it signed has expired.
  std::optional<int64_t> retire_at;
};

struct ClientPage {
  std::vector<Client> clients;
  std::optional<std::string> next_page_token;  // the last id of this page when more follow
};

struct ClientFilter {
  std::string client_name;  // exact match when not empty
  std::string owner;        // exact match when not empty
  std::size_t page_size = 100;
  std::string page_token;  // list ids after this one
};

class Storage {
 public:
  virtual ~Storage() = default;

  // Applies every migration not applied yet. Returns the schema version afterwards.
  virtual StorageResult<int> migrate() = 0;
  // The applied schema version; 0 when no migration ran.
  virtual StorageResult<int> schema_version() = 0;
  // Checks that the database responds, for /health/ready.
  virtual StorageResult<void> ping() = 0;

  virtual StorageResult<void> create_client(const Client& client) = 0;  // conflict when the id exists
  virtual StorageResult<std::optional<Client>> get_client(const std::string& client_id) = 0;
  virtual StorageResult<ClientPage> list_clients(const ClientFilter& filter) = 0;
  // Replaces the stored client. Returns false when no client has that id.
  virtual StorageResult<bool> update_client(const Client& client) = 0;
  // Deletes the client and its tokens. Returns false when no client has that id.
  virtual StorageResult<bool> delete_client(const std::string& client_id) = 0;

  virtual StorageResult<void> insert_token(const TokenRecord& token) = 0;
  virtual StorageResult<std::optional<TokenRecord>> get_token(const std::string& signature_hash) = 0;
  // Marks a token revoked. Returns false when no token has that hash.
  virtual StorageResult<bool> revoke_token(const std::string& signature_hash) = 0;

  // Records a client-assertion id until `expires_at`. Returns false when the pair
  // (client_id, jti) was already recorded, which means the assertion is replayed.
  virtual StorageResult<bool> record_jti(const std::string& client_id, const std::string& jti, int64_t expires_at) = 0;

  virtual StorageResult<void> insert_key(const SigningKey& key) = 0;
  // Every key not yet past its retire_at, newest first.
  virtual StorageResult<std::vector<SigningKey>> list_keys(int64_t now) = 0;
  // Sets retire_at on every key that signs (retire_at unset) except `kid`.
  virtual StorageResult<void> retire_keys_except(const std::string& kid, int64_t retire_at) = 0;

  // Deletes tokens and jti records whose expiry is at or before `now`, and keys whose
  // retire time is at or before `now` (a token is invalid from its `exp` second on).
  // Returns the number of deleted tokens.
  virtual StorageResult<int64_t> purge(int64_t now) = 0;
};

// The schema version this build needs: the number of its migrations.
int latest_schema_version();

// Opens the storage named by a DSN: "memory", "sqlite://<path>" (sqlite:///abs/path.db)
// or "postgres://..." / "postgresql://...". Does not migrate.
gh::Expected<std::unique_ptr<Storage>, std::string> open_storage(const std::string& dsn);

}  // namespace gh::oauth2
