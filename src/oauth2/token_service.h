// The token service's endpoint logic, apart from HTTP: each method takes parsed request
// parts and returns the complete response. Every method may block (storage, PBKDF2, key
// generation), so the HTTP handlers call them on the blocking-call pool.
//
// Paths, parameters, JSON fields and error bodies follow Ory Hydra's client_credentials
// interface. Where Hydra departs from RFC 6749, this code follows the RFC instead:
// an unknown grant_type gets `unsupported_grant_type` (Hydra: `invalid_request`), and a 401
// after Basic authentication carries `WWW-Authenticate: Basic` (Hydra sends none). The admin
// key routes return public keys only, where Hydra also returns the private parts.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/expected.h"
#include "oauth2/client.h"
#include "oauth2/form.h"
#include "oauth2/keys.h"
#include "oauth2/response.h"
#include "oauth2/secret_verifier.h"
#include "oauth2/settings.h"
#include "oauth2/storage/storage.h"

namespace gh::oauth2 {

class TokenService {
 public:
  // Returns the current unix time in seconds; replaced in tests.
  using Clock = std::function<int64_t()>;

  TokenService(Settings settings, std::unique_ptr<Storage> storage, Clock clock = {});

  // Makes the storage usable: a memory database is migrated, any other must already have
  // the current schema (`gatehouse migrate sql`). Then loads or creates the signing key.
  gh::Expected<void, std::string> prepare();

  // Public listener.
  Response token(const Form& form, const std::optional<std::string>& authorization);
  Response revoke(const Form& form, const std::optional<std::string>& authorization);
  Response discovery() const;
  Response jwks();
  Response ready();

  // Admin listener.
  Response introspect(const Form& form);
  Response create_client(std::string_view body);
  Response list_clients(std::string_view query);
  Response get_client(const std::string& client_id);
  Response update_client(const std::string& client_id, std::string_view body);
  Response delete_client(const std::string& client_id);
  Response list_keys();
  Response rotate_key(std::string_view body);

  // Deletes expired tokens, used assertion ids and retired keys. Returns deleted tokens.
  gh::Expected<int64_t, std::string> purge();

  const Settings& settings() const { return settings_; }
  Storage& storage() { return *storage_; }

 private:
  struct Introspection;
  std::optional<TokenRecord> find_token(std::string_view token, bool verify_jwt);
  gh::Expected<std::string, OAuthError> issue_jwt(const TokenRecord& record, std::string& signature);

  Settings settings_;
  std::unique_ptr<Storage> storage_;
  Clock clock_;
  std::vector<std::string> system_secrets_;  // the first one signs; declared before keys_, which copies them
  SecretVerifier secrets_;
  KeyManager keys_;
};

}  // namespace gh::oauth2
