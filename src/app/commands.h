// Subcommands of the gatehouse binary. Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace gh::app {

int run_serve(const std::vector<std::string>& config_files);
int run_config_validate(const std::vector<std::string>& config_files);
int run_version();
int run_health(const std::string& endpoint, const std::string& check);
// Exit codes: 0 allowed, 3 denied, 1 invalid config, 2 invalid arguments.
int run_rules_test(const std::vector<std::string>& config_files, const std::string& method, const std::string& url,
                   const std::vector<std::string>& headers);
int run_credentials_generate(const std::string& algorithm, const std::string& kid, int bits);

// Fields of `gatehouse clients create`.
struct ClientOptions {
  std::string id;      // empty: the server generates one
  std::string name;
  std::string secret;  // empty: the server generates one
  std::vector<std::string> grant_types{"client_credentials"};
  std::vector<std::string> scopes;
  std::vector<std::string> audience;
  std::string token_endpoint_auth_method = "client_secret_basic";
  std::string access_token_strategy;  // empty: the server's default
  std::string jwks;                   // JSON text, for private_key_jwt
};

int run_clients_create(const std::string& endpoint, const ClientOptions& options);
int run_clients_list(const std::string& endpoint);
int run_clients_get(const std::string& endpoint, const std::string& id);
int run_clients_delete(const std::string& endpoint, const std::string& id);
int run_keys_rotate(const std::string& endpoint, const std::string& algorithm);
int run_migrate_sql(const std::vector<std::string>& config_files, const std::string& dsn);

}  // namespace gh::app
