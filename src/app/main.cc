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
  // Oathkeeper accepted `serve proxy` and `serve api`; the extra word is ignored.
  serve->allow_extras();

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

  CLI11_PARSE(app, argc, argv);

  if (serve->parsed()) return gh::app::run_serve(config_files);
  if (validate->parsed()) return gh::app::run_config_validate(validate_files);
  if (version->parsed()) return gh::app::run_version();
  if (health->parsed()) return gh::app::run_health(endpoint, check);
  if (generate->parsed()) return gh::app::run_credentials_generate(algorithm, kid, bits);
  return 1;
}
