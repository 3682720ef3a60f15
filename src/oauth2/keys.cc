#include "oauth2/keys.h"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "jose/generate.h"
#include "oauth2/crypto.h"

namespace gh::oauth2 {
namespace {

std::optional<std::string> unseal(const std::vector<std::string>& secrets, std::string_view sealed) {
  for (const std::string& secret : secrets) {
    if (auto plain = open_sealed(secret, sealed)) return plain;
  }
  return std::nullopt;
}

}  // namespace

KeyManager::KeyManager(Storage& storage, std::vector<std::string> secrets, jose::Algorithm algorithm,
                       std::chrono::seconds token_ttl, std::function<int64_t()> clock)
    : storage_(storage), secrets_(std::move(secrets)), algorithm_(algorithm), token_ttl_(token_ttl), clock_(std::move(clock)) {}

gh::Expected<std::shared_ptr<const KeyRing>, std::string> KeyManager::keys(bool force) {
  {
    std::lock_guard lock(mutex_);
    if (ring_ && !force && std::chrono::steady_clock::now() - ring_->loaded_at < kRefreshInterval) return ring_;
  }
  auto ring = load();
  if (!ring) return ring;
  if (!(*ring)->signing_key) {
    // First start (or every key retired by hand): make one. Two replicas starting together
    // may both insert one; the newest signs and both stay published.
    auto kid = insert_new_key(algorithm_, std::nullopt);
    if (!kid) return gh::Unexpected(kid.error());
    spdlog::info("token service: generated signing key {}", *kid);
    ring = load();
    if (!ring) return ring;
  }
  std::lock_guard lock(mutex_);
  ring_ = *ring;
  return ring_;
}

gh::Expected<std::shared_ptr<const KeyRing>, std::string> KeyManager::load() {
  auto stored = storage_.list_keys(clock_());
  if (!stored) return gh::Unexpected("cannot read signing keys: " + stored.error().message);

  auto ring = std::make_shared<KeyRing>();
  std::vector<jose::Jwk> public_keys;
  for (const SigningKey& key : *stored) {
    std::optional<std::string> text = unseal(secrets_, key.sealed_private_jwk);
    if (!text) {
      spdlog::error("token service: signing key {} cannot be decrypted with any system secret; it is skipped", key.kid);
      continue;
    }
    auto jwk = jose::parse_jwk(*text);
    if (!jwk) {
      spdlog::error("token service: signing key {} is invalid ({}); it is skipped", key.kid, jwk.error());
      continue;
    }
    if (!key.retire_at && !ring->signing_key) ring->signing_key = ring->keys.size();
    if (auto public_json = jwk->to_public_json()) {
      if (auto public_key = jose::parse_jwk(*public_json)) public_keys.push_back(std::move(*public_key));
    }
    ring->keys.push_back(std::move(*jwk));
  }
  ring->public_set = jose::JwkSet(std::move(public_keys), {});
  ring->loaded_at = std::chrono::steady_clock::now();
  return std::shared_ptr<const KeyRing>(std::move(ring));
}

gh::Expected<std::string, std::string> KeyManager::insert_new_key(jose::Algorithm alg, std::optional<std::string> kid) {
  jose::GenerateOptions options;
  options.alg = alg;
  options.kid = std::move(kid);
  auto generated = jose::generate_jwk(options);
  if (!generated) return gh::Unexpected("cannot generate a signing key: " + generated.error());

  SigningKey key;
  key.kid = std::string(generated->at("kid").as_string());
  key.algorithm = std::string(jose::algorithm_name(alg));
  key.sealed_private_jwk = seal(secrets_.front(), boost::json::serialize(*generated));
  key.created_at = clock_();
  auto inserted = storage_.insert_key(key);
  if (!inserted) {
    if (inserted.error().code == StorageError::Code::conflict) {
      return gh::Unexpected("a signing key with kid " + key.kid + " exists already");
    }
    return gh::Unexpected("cannot store the signing key: " + inserted.error().message);
  }
  return key.kid;
}

gh::Expected<boost::json::object, std::string> KeyManager::rotate(std::optional<jose::Algorithm> alg,
                                                                  std::optional<std::string> kid) {
  auto inserted = insert_new_key(alg.value_or(algorithm_), std::move(kid));
  if (!inserted) return gh::Unexpected(inserted.error());
  auto retired = storage_.retire_keys_except(*inserted, clock_() + token_ttl_.count());
  if (!retired) return gh::Unexpected("cannot retire the previous signing keys: " + retired.error().message);

  auto ring = keys(true);
  if (!ring) return gh::Unexpected(ring.error());
  for (const jose::Jwk& key : (*ring)->keys) {
    if (key.kid() == *inserted) {
      if (auto public_json = key.to_public_json()) return *public_json;
    }
  }
  return gh::Unexpected("the new signing key " + *inserted + " was not found after the rotation");
}

}  // namespace gh::oauth2
