// Admin endpoints: introspection, clients and signing keys. The admin listener has no
// caller authentication, as in Hydra: bind it to a private interface.
#include <charconv>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/url.h"
#include "jose/generate.h"
#include "jose/generate.h"
#include "oauth2/crypto.h"
#include "oauth2/token_service.h"

namespace gh::oauth2 {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxPageSize = 500;
constexpr std::size_t kDefaultPageSize = 100;

Response not_found() {
  return json_response(404, json::object{{"error", "Unable to locate the resource"}, {"error_description", ""}});
}

Response admin_error(unsigned status, std::string error, std::string description) {
  return error_response(OAuthError{status, std::move(error), std::move(description), false});
}

Response storage_failure(std::string_view action, const StorageError& error) {
  spdlog::error("token service: cannot {}: {}", action, error.message);
  return error_response(server_error());
}

json::array to_array(const std::vector<std::string>& items) {
  json::array array;
  for (const std::string& item : items) array.emplace_back(item);
  return array;
}

gh::Expected<ClientInput, Response> parse_client_body(std::string_view body) {
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  if (ec) return gh::Unexpected(admin_error(400, "invalid_request", "The request body is not valid JSON."));
  auto input = client_from_json(value);
  if (!input) return gh::Unexpected(admin_error(400, input.error().error, input.error().description));
  return std::move(*input);
}

}  // namespace

Response TokenService::introspect(const Form& form) {
  if (form.empty()) return error_response(invalid_request("The request body is empty; send the form parameter token."));
  json::object inactive{{"active", false}};
  std::string token = form.value("token");
  if (token.empty()) return json_response(200, inactive);

  std::optional<TokenRecord> record = find_token(token, true);
  int64_t now = clock_();
  if (!record || record->revoked || record->expires_at <= now) return json_response(200, inactive);
  for (const std::string& scope : split_spaces(form.value("scope"))) {
    if (!scope_allowed(settings_.scope_strategy, record->scopes, scope)) return json_response(200, inactive);
  }

  json::object active{{"active", true},
                      {"client_id", record->client_id},
                      {"sub", record->subject},
                      {"exp", record->expires_at},
                      {"iat", record->issued_at},
                      {"nbf", record->issued_at},
                      {"aud", to_array(record->audience)},
                      {"iss", settings_.issuer},
                      {"token_type", "Bearer"},
                      {"token_use", "access_token"}};
  if (!record->scopes.empty()) active["scope"] = join_spaces(record->scopes);
  return json_response(200, active);
}

Response TokenService::create_client(std::string_view body) {
  auto input = parse_client_body(body);
  if (!input) return std::move(input.error());
  Client& client = input->client;

  if (client.client_id.empty()) client.client_id = jose::random_uuid_v4();
  std::optional<std::string> secret = input->secret;
  bool uses_secret = client.token_endpoint_auth_method == "client_secret_basic" ||
                     client.token_endpoint_auth_method == "client_secret_post";
  if (uses_secret && !secret) secret = generate_client_secret();
  if (!uses_secret) secret.reset();
  if (secret) client.secret_hash = hash_secret(*secret);
  client.created_at = client.updated_at = clock_();

  auto created = storage_->create_client(client);
  if (!created && created.error().code == StorageError::Code::conflict) {
    return json_response(409, json::object{{"error", "Unable to insert or update resource because a resource with that "
                                                     "value exists already"},
                                           {"error_description", ""}});
  }
  if (!created) return storage_failure("create a client", created.error());
  spdlog::info("token service: created client {}", client.client_id);
  return json_response(201, client_to_json(client, secret));
}

Response TokenService::list_clients(std::string_view query) {
  ClientFilter filter;
  filter.client_name = http::query_value(query, "client_name").value_or("");
  filter.owner = http::query_value(query, "owner").value_or("");
  filter.page_token = http::query_value(query, "page_token").value_or("");
  filter.page_size = kDefaultPageSize;
  if (auto size = http::query_value(query, "page_size"); size && !size->empty()) {
    std::size_t parsed = 0;
    auto [end, error] = std::from_chars(size->data(), size->data() + size->size(), parsed);
    if (error != std::errc() || end != size->data() + size->size() || parsed == 0) {
      return admin_error(400, "invalid_request", "The page_size parameter must be a positive integer.");
    }
    filter.page_size = std::min(parsed, kMaxPageSize);
  }

  auto page = storage_->list_clients(filter);
  if (!page) return storage_failure("list clients", page.error());
  json::array clients;
  for (const Client& client : page->clients) clients.push_back(client_to_json(client));
  Response response = json_response(200, clients);
  if (page->next_page_token) {
    // Keyset pagination: the next page starts after the last id of this one.
    std::string link = fmt::format("</admin/clients?page_size={}&page_token={}>; rel=\"next\"", filter.page_size,
                                   http::encode_path(*page->next_page_token));
    response.headers.emplace_back("Link", link);
  }
  return response;
}

Response TokenService::get_client(const std::string& client_id) {
  auto client = storage_->get_client(client_id);
  if (!client) return storage_failure("read a client", client.error());
  if (!*client) return not_found();
  return json_response(200, client_to_json(**client));
}

Response TokenService::update_client(const std::string& client_id, std::string_view body) {
  auto input = parse_client_body(body);
  if (!input) return std::move(input.error());
  auto existing = storage_->get_client(client_id);
  if (!existing) return storage_failure("read a client", existing.error());
  if (!*existing) return not_found();

  Client& client = input->client;
  if (!client.client_id.empty() && client.client_id != client_id) {
    return admin_error(400, "invalid_request", "The client_id in the body differs from the one in the path.");
  }
  client.client_id = client_id;
  client.created_at = (*existing)->created_at;
  client.updated_at = clock_();
  // An absent secret keeps the stored one, as in Hydra's PUT.
  client.secret_hash = input->secret ? hash_secret(*input->secret) : (*existing)->secret_hash;

  auto updated = storage_->update_client(client);
  if (!updated) return storage_failure("update a client", updated.error());
  if (!*updated) return not_found();
  return json_response(200, client_to_json(client, input->secret));
}

Response TokenService::delete_client(const std::string& client_id) {
  auto deleted = storage_->delete_client(client_id);
  if (!deleted) return storage_failure("delete a client", deleted.error());
  if (!*deleted) return not_found();
  spdlog::info("token service: deleted client {}", client_id);
  Response response;
  response.status = 204;
  return response;
}

Response TokenService::list_keys() {
  auto ring = keys_.keys(true);
  if (!ring) {
    spdlog::error("token service: cannot load signing keys: {}", ring.error());
    return error_response(server_error());
  }
  return json_response(200, (*ring)->public_set.to_public_json());
}

Response TokenService::rotate_key(std::string_view body) {
  std::optional<jose::Algorithm> alg;
  std::optional<std::string> kid;
  if (!body.empty()) {
    boost::system::error_code ec;
    json::value value = json::parse(body, ec);
    if (ec || !value.is_object()) return admin_error(400, "invalid_request", "The request body must be a JSON object.");
    if (const json::value* name = value.as_object().if_contains("alg"); name && name->is_string()) {
      alg = jose::parse_algorithm(name->as_string());
      bool signs = alg && *alg != jose::Algorithm::hs256 && *alg != jose::Algorithm::hs384 && *alg != jose::Algorithm::hs512;
      if (!signs) return admin_error(400, "invalid_request", "Field alg must name an asymmetric JWS algorithm such as RS256, ES256 or EdDSA.");
    }
    if (const json::value* id = value.as_object().if_contains("kid"); id && id->is_string() && !id->as_string().empty()) {
      kid = std::string(id->as_string());
    }
  }
  auto key = keys_.rotate(alg, kid);
  if (!key) {
    spdlog::error("token service: key rotation failed: {}", key.error());
    return error_response(server_error());
  }
  spdlog::info("token service: rotated the signing key; new kid {}", std::string(key->at("kid").as_string()));
  return json_response(201, json::object{{"keys", json::array{*key}}});
}

}  // namespace gh::oauth2
