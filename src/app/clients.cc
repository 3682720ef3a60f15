// `gatehouse clients ...` and `gatehouse keys rotate`: thin wrappers over the token
// service's admin API that print its JSON answer.
#include <boost/json.hpp>
#include <fmt/format.h>

#include "app/admin_client.h"
#include "app/commands.h"
#include "http/url.h"

namespace gh::app {
namespace {

namespace json = boost::json;

json::array to_array(const std::vector<std::string>& items) {
  json::array array;
  for (const std::string& item : items) array.emplace_back(item);
  return array;
}

// Prints the response body; returns 0 for a 2xx status and 1 otherwise.
int print_response(const gh::Expected<AdminResponse, std::string>& response) {
  if (!response) {
    fmt::print(stderr, "gatehouse: {}\n", response.error());
    return 1;
  }
  bool ok = response->status >= 200 && response->status < 300;
  if (!response->body.empty()) fmt::print(ok ? stdout : stderr, "{}\n", response->body);
  if (!ok) fmt::print(stderr, "gatehouse: the admin API returned HTTP {}\n", response->status);
  return ok ? 0 : 1;
}

}  // namespace

int run_clients_create(const std::string& endpoint, const ClientOptions& options) {
  json::object client{{"grant_types", to_array(options.grant_types)},
                      {"scope", fmt::format("{}", fmt::join(options.scopes, " "))},
                      {"audience", to_array(options.audience)},
                      {"token_endpoint_auth_method", options.token_endpoint_auth_method}};
  if (!options.id.empty()) client["client_id"] = options.id;
  if (!options.name.empty()) client["client_name"] = options.name;
  if (!options.secret.empty()) client["client_secret"] = options.secret;
  if (!options.access_token_strategy.empty()) client["access_token_strategy"] = options.access_token_strategy;
  if (!options.jwks.empty()) {
    boost::system::error_code ec;
    json::value jwks = json::parse(options.jwks, ec);
    if (ec) {
      fmt::print(stderr, "gatehouse: --jwks is not valid JSON: {}\n", ec.message());
      return 2;
    }
    client["jwks"] = jwks;
  }
  return print_response(admin_request(endpoint, "POST", "/admin/clients", json::serialize(client)));
}

int run_clients_list(const std::string& endpoint) { return print_response(admin_request(endpoint, "GET", "/admin/clients")); }

int run_clients_get(const std::string& endpoint, const std::string& id) {
  return print_response(admin_request(endpoint, "GET", "/admin/clients/" + http::encode_path(id)));
}

int run_clients_delete(const std::string& endpoint, const std::string& id) {
  int code = print_response(admin_request(endpoint, "DELETE", "/admin/clients/" + http::encode_path(id)));
  if (code == 0) fmt::print("deleted client {}\n", id);
  return code;
}

int run_keys_rotate(const std::string& endpoint, const std::string& algorithm) {
  json::object body;
  if (!algorithm.empty()) body["alg"] = algorithm;
  return print_response(admin_request(endpoint, "POST", "/admin/keys/hydra.jwt.access-token", json::serialize(body)));
}

}  // namespace gh::app
