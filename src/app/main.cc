// gatehouse: an identity and access proxy that reads Ory Oathkeeper's config and rule files.
#include <CLI/CLI.hpp>

#include "app/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"gatehouse: identity and access proxy"};
  app.require_subcommand(1);

  std::vector<std::string> config_files;
  CLI::App* serve = app.add_subcommand("serve", "Run the proxy and API servers");
  serve->add_option("-c,--config", config_files, "Config file (YAML or JSON); repeat to merge several, later ones win")
      ->check(CLI::ExistingFile);
  // Oathkeeper accepted `serve proxy`, `serve api` and `serve all`; each runs both servers
  // here. Any other word is an error, so a mistyped flag is not silently dropped.
  std::string serve_mode;
  serve->add_option("mode", serve_mode, "Accepted for Oathkeeper compatibility; both servers always run")
      ->check(CLI::IsMember({"proxy", "api", "all"}));
  serve->add_flag("--disable-telemetry,--sqa-opt-out")
      ->description("Accepted for Oathkeeper compatibility; gatehouse sends no telemetry");

  CLI::App* config = app.add_subcommand("config", "Work with config files");
  config->require_subcommand(1);
  std::vector<std::string> validate_files;
  CLI::App* validate = config->add_subcommand("validate", "Check config files and the access rules they name");
  validate->add_option("-c,--config", validate_files, "Config file; repeat to merge several")->required();

  CLI::App* version = app.add_subcommand("version", "Print the version");

  std::string endpoint = "http://127.0.0.1:4456";
  std::string check;
  CLI::App* health = app.add_subcommand("health", "Query the health endpoints of a running gatehouse API");
  health->add_option("-e,--endpoint", endpoint, "Base URL of the API server");
  health->add_option("check", check, "alive or ready")->required()->check(CLI::IsMember({"alive", "ready"}));

  std::string algorithm;
  std::string kid;
  int bits = 2048;
  CLI::App* credentials = app.add_subcommand("credentials", "Work with signing keys");
  credentials->require_subcommand(1);
  CLI::App* generate = credentials->add_subcommand("generate", "Print a JSON Web Key Set holding one new private key");
  generate->add_option("--alg", algorithm, "Algorithm: RS256/384/512, PS256/384/512, ES256/384/512, EdDSA, HS256/384/512")
      ->required();
  generate->add_option("--kid", kid, "Key id (default: a random UUID)");
  generate->add_option("--bits", bits, "RSA key size in bits (at least 2048)");

  // Token-service admin commands; the admin listener has no authentication, so the default
  // endpoint is loopback.
  std::string admin_endpoint = "http://127.0.0.1:4445";
  gh::app::ClientOptions client_options;
  std::string client_id;
  CLI::App* clients = app.add_subcommand("clients", "Manage OAuth2 clients of the token service (admin API)");
  clients->require_subcommand(1);
  clients->fallthrough();
  clients->add_option("-e,--endpoint", admin_endpoint, "Base URL of the token service's admin listener");
  CLI::App* clients_create = clients->add_subcommand("create", "Register a client and print it with its secret");
  clients_create->add_option("--id", client_options.id, "Client id (default: a random UUID)");
  clients_create->add_option("--name", client_options.name, "Human-readable client name");
  clients_create->add_option("--secret", client_options.secret, "Client secret, 6 characters or more (default: generated)");
  clients_create->add_option("--grant-type", client_options.grant_types, "Allowed grant type; repeat for several")
      ->capture_default_str();
  clients_create->add_option("--scope", client_options.scopes, "Allowed scope; repeat for several");
  clients_create->add_option("--audience", client_options.audience, "Allowed audience; repeat for several");
  clients_create->add_option("--token-endpoint-auth-method", client_options.token_endpoint_auth_method,
                             "client_secret_basic, client_secret_post or private_key_jwt")
      ->check(CLI::IsMember({"client_secret_basic", "client_secret_post", "private_key_jwt", "none"}));
  clients_create->add_option("--access-token-strategy", client_options.access_token_strategy, "opaque or jwt")
      ->check(CLI::IsMember({"opaque", "jwt"}));
  clients_create->add_option("--jwks", client_options.jwks, "Public JSON Web Key Set of the client, as JSON text");
  CLI::App* clients_list = clients->add_subcommand("list", "Print every client (without secrets)");
  CLI::App* clients_get = clients->add_subcommand("get", "Print one client (without its secret)");
  clients_get->add_option("id", client_id, "Client id")->required();
  CLI::App* clients_delete = clients->add_subcommand("delete", "Delete a client and its tokens");
  clients_delete->add_option("id", client_id, "Client id")->required();

  std::string key_algorithm;
  CLI::App* keys = app.add_subcommand("keys", "Manage the token service's JWT signing keys (admin API)");
  keys->require_subcommand(1);
  keys->fallthrough();
  keys->add_option("-e,--endpoint", admin_endpoint, "Base URL of the token service's admin listener");
  CLI::App* keys_rotate = keys->add_subcommand("rotate", "Make a new signing key; old keys stay published until their tokens expire");
  keys_rotate->add_option("--alg", key_algorithm, "RS256, ES256, EdDSA, ... (default: oauth2.jwt.algorithm of the server)");

  std::vector<std::string> migrate_files;
  std::string dsn;
  CLI::App* migrate = app.add_subcommand("migrate", "Manage the token service's database");
  migrate->require_subcommand(1);
  CLI::App* migrate_sql = migrate->add_subcommand("sql", "Create or upgrade the database schema");
  migrate_sql->add_option("-c,--config", migrate_files, "Config file whose oauth2.dsn names the database")
      ->check(CLI::ExistingFile);
  migrate_sql->add_option("--dsn", dsn, "Database: sqlite:///path/to/file.db or postgres://user:password@host:port/db");

  std::vector<std::string> rules_files;
  std::string rules_method = "GET";
  std::string rules_url;
  std::vector<std::string> rules_headers;
  CLI::App* rules = app.add_subcommand("rules", "Work with access rules");
  rules->require_subcommand(1);
  CLI::App* rules_test = rules->add_subcommand(
      "test", "Show which access rule matches a request and what the pipeline decides (exit 0 allowed, 3 denied)");
  rules_test->add_option("-c,--config", rules_files, "Config file; repeat to merge several")->required();
  rules_test->add_option("--url", rules_url, "The request URL, for example https://api.example.com/users/42")->required();
  rules_test->add_option("-X,--method", rules_method, "The request method");
  rules_test->add_option("-H,--header", rules_headers, "A request header \"Name: value\"; repeat for several");

  CLI11_PARSE(app, argc, argv);

  if (serve->parsed()) return gh::app::run_serve(config_files);
  if (validate->parsed()) return gh::app::run_config_validate(validate_files);
  if (version->parsed()) return gh::app::run_version();
  if (health->parsed()) return gh::app::run_health(endpoint, check);
  if (rules_test->parsed()) return gh::app::run_rules_test(rules_files, rules_method, rules_url, rules_headers);
  if (generate->parsed()) return gh::app::run_credentials_generate(algorithm, kid, bits);
  if (clients_create->parsed()) return gh::app::run_clients_create(admin_endpoint, client_options);
  if (clients_list->parsed()) return gh::app::run_clients_list(admin_endpoint);
  if (clients_get->parsed()) return gh::app::run_clients_get(admin_endpoint, client_id);
  if (clients_delete->parsed()) return gh::app::run_clients_delete(admin_endpoint, client_id);
  if (keys_rotate->parsed()) return gh::app::run_keys_rotate(admin_endpoint, key_algorithm);
  if (migrate_sql->parsed()) return gh::app::run_migrate_sql(migrate_files, dsn);
  return 1;
}
