#include "jose/jwk.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "jose/base64url.h"
#include "unit/jose/cli_keys.h"

namespace gh::jose {
namespace {

using testing::cli_keys;

boost::json::object object_of(const std::string& json) {
  return boost::json::parse(json).as_object();
}

// Returns the JWK text with one member replaced.
template <typename T>
std::string with_member(const std::string& jwk, const std::string& name, const T& value) {
  boost::json::object object = object_of(jwk);
  if constexpr (std::is_convertible_v<T, std::string_view>) {
    object[name] = std::string_view(value);
  } else {
    object[name] = value;
  }
  return boost::json::serialize(object);
}

std::string without_member(const std::string& jwk, const std::string& name) {
  boost::json::object object = object_of(jwk);
  object.erase(name);
  return boost::json::serialize(object);
}

struct KeyCase {
  const char* label;
  const testing::CliKey& key;
  KeyType type;
  const char* curve;
  int bits;
};

std::vector<KeyCase> asymmetric_cases() {
  const auto& keys = cli_keys();
  return {{"RSA", keys.rsa, KeyType::rsa, "", 2048},
          {"P-256", keys.p256, KeyType::ec, "P-256", 256},
          {"P-384", keys.p384, KeyType::ec, "P-384", 384},
          {"P-521", keys.p521, KeyType::ec, "P-521", 521},
          {"Ed25519", keys.ed25519, KeyType::okp, "Ed25519", 256}};
}

TEST(Jwk, ParsesOpensslKeys) {
  for (const KeyCase& c : asymmetric_cases()) {
    auto public_key = parse_jwk(c.key.public_jwk);
    auto private_key = parse_jwk(c.key.private_jwk);
    ASSERT_TRUE(public_key) << c.label << ": " << public_key.error();
    ASSERT_TRUE(private_key) << c.label << ": " << private_key.error();

    EXPECT_EQ(public_key->type(), c.type) << c.label;
    EXPECT_EQ(public_key->curve(), c.curve) << c.label;
    EXPECT_EQ(public_key->bits(), c.bits) << c.label;
    EXPECT_FALSE(public_key->is_private()) << c.label;
    EXPECT_TRUE(private_key->is_private()) << c.label;
    EXPECT_NE(public_key->pkey(), nullptr) << c.label;
    EXPECT_TRUE(public_key->is_signature_key()) << c.label;
  }
}

TEST(Jwk, PublicViewDropsPrivateMembers) {
  for (const KeyCase& c : asymmetric_cases()) {
    auto private_key = parse_jwk(c.key.private_jwk);
    ASSERT_TRUE(private_key) << c.label;

    std::optional<boost::json::object> published = private_key->to_public_json();

    ASSERT_TRUE(published) << c.label;
    EXPECT_EQ(*published, object_of(c.key.public_jwk)) << c.label;
  }
}

TEST(Jwk, OctKeyHasNoPublicView) {
  auto key = parse_jwk(cli_keys().hmac_jwk(32, "hmac"));
  ASSERT_TRUE(key) << key.error();
  EXPECT_EQ(key->type(), KeyType::oct);
  EXPECT_EQ(key->secret().size(), 32u);
  EXPECT_EQ(key->bits(), 256);
  EXPECT_EQ(key->pkey(), nullptr);
  EXPECT_FALSE(key->to_public_json());
}

TEST(Jwk, RejectsEcPointNotOnCurve) {
  const std::string& jwk = cli_keys().p256.public_jwk;
  std::string y = *base64url_decode(object_of(jwk).at("y").as_string());
  y.back() ^= 0x01;

  auto key = parse_jwk(with_member(jwk, "y", base64url_encode(y)));

  EXPECT_FALSE(key);
}

TEST(Jwk, RejectsShortEcCoordinate) {
  const std::string& jwk = cli_keys().p384.public_jwk;
  const std::string x = *base64url_decode(object_of(jwk).at("x").as_string());

  auto key = parse_jwk(with_member(jwk, "x", base64url_encode(x.substr(1))));

  ASSERT_FALSE(key);
  EXPECT_NE(key.error().find("48 bytes"), std::string::npos) << key.error();
}

TEST(Jwk, RejectsCurveMismatch) {
  // P-256 coordinates labelled as P-384.
  auto key = parse_jwk(with_member(cli_keys().p256.public_jwk, "crv", "P-384"));
  EXPECT_FALSE(key);
}

TEST(Jwk, RejectsEcPrivateKeyOfAnotherPoint) {
  const std::string other_d = object_of(cli_keys().p256.private_jwk).at("d").as_string().c_str();
  // The P-256 public key with a private scalar that belongs to no key in the fixture.
  std::string d = *base64url_decode(other_d);
  d.back() ^= 0x01;

  auto key = parse_jwk(with_member(cli_keys().p256.private_jwk, "d", base64url_encode(d)));

  EXPECT_FALSE(key);
}

TEST(Jwk, RejectsEd25519PrivateKeyOfAnotherPublicKey) {
  std::string d = *base64url_decode(object_of(cli_keys().ed25519.private_jwk).at("d").as_string());
  d[0] ^= 0x01;

  auto key = parse_jwk(with_member(cli_keys().ed25519.private_jwk, "d", base64url_encode(d)));

  ASSERT_FALSE(key);
  EXPECT_NE(key.error().find("does not match"), std::string::npos) << key.error();
}

TEST(Jwk, RejectsPartialRsaCrtMembers) {
  auto key = parse_jwk(without_member(cli_keys().rsa.private_jwk, "qi"));
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().find("\"qi\""), std::string::npos) << key.error();
}

TEST(Jwk, AcceptsRsaPrivateKeyWithoutCrtMembers) {
  std::string jwk = cli_keys().rsa.private_jwk;
  for (const char* member : {"p", "q", "dp", "dq", "qi"}) jwk = without_member(jwk, member);

  auto key = parse_jwk(jwk);

  ASSERT_TRUE(key) << key.error();
  EXPECT_TRUE(key->is_private());
}

TEST(Jwk, RejectsInvalidMembers) {
  const auto& keys = cli_keys();
  const std::pair<std::string, std::string> cases[] = {
      {"kty missing", without_member(keys.rsa.public_jwk, "kty")},
      {"kty unknown", with_member(keys.rsa.public_jwk, "kty", "DSA")},
      {"kty not a string", with_member(keys.rsa.public_jwk, "kty", 1)},
      {"n missing", without_member(keys.rsa.public_jwk, "n")},
      {"n padded", with_member(keys.rsa.public_jwk, "n",
                               std::string(object_of(keys.rsa.public_jwk).at("n").as_string()) + "=")},
      {"e empty", with_member(keys.rsa.public_jwk, "e", "")},
      {"e too long", with_member(keys.rsa.public_jwk, "e", base64url_encode(std::string(9, '\x01')))},
      {"oth present", with_member(keys.rsa.private_jwk, "oth", boost::json::array{})},
      {"crv unknown", with_member(keys.p256.public_jwk, "crv", "secp256k1")},
      {"okp curve", with_member(keys.ed25519.public_jwk, "crv", "X25519")},
      {"okp x short", with_member(keys.ed25519.public_jwk, "x", base64url_encode(std::string(31, 'a')))},
      {"oct k missing", R"({"kty":"oct"})"},
      {"oct k empty", R"({"kty":"oct","k":""})"},
      {"kid not a string", with_member(keys.rsa.public_jwk, "kid", 5)},
      {"use not a string", with_member(keys.rsa.public_jwk, "use", boost::json::array{"sig"})},
      {"kid too long", with_member(keys.rsa.public_jwk, "kid", std::string(kMaxKidBytes + 1, 'k'))},
  };
  for (const auto& [label, jwk] : cases) {
    EXPECT_FALSE(parse_jwk(jwk)) << label;
  }
}

TEST(Jwk, AcceptsKidAtLimit) {
  auto key = parse_jwk(with_member(cli_keys().rsa.public_jwk, "kid", std::string(kMaxKidBytes, 'k')));
  EXPECT_TRUE(key);
}

TEST(Jwk, KeepsUseAndAlg) {
  std::string jwk = with_member(cli_keys().p256.public_jwk, "use", "enc");
  jwk = with_member(jwk, "alg", "ECDH-ES");

  auto key = parse_jwk(jwk);

  ASSERT_TRUE(key) << key.error();
  EXPECT_EQ(key->use(), "enc");
  EXPECT_EQ(key->alg(), "ECDH-ES");
  EXPECT_FALSE(key->is_signature_key());
}

TEST(Jwks, SkipsBadKeysAndKeepsTheRest) {
  const auto& keys = cli_keys();
  std::string bad_point = keys.p256.public_jwk;
  bad_point = with_member(bad_point, "kid", "broken");
  bad_point = with_member(bad_point, "y", object_of(keys.p256.public_jwk).at("x"));
  const std::string json = R"({"keys":[)" + keys.rsa.public_jwk + "," + bad_point + R"(,"text",)" +
                           keys.ed25519.public_jwk + R"(,{"kty":"oct"}]})";

  auto set = parse_jwks(json);

  ASSERT_TRUE(set) << set.error();
  ASSERT_EQ(set->keys().size(), 2u);
  EXPECT_EQ(set->keys()[0].kid(), "rsa-1");
  EXPECT_EQ(set->keys()[1].kid(), "ed-1");
  ASSERT_EQ(set->skipped().size(), 3u);
  EXPECT_EQ(set->skipped()[0].index, 1u);
  EXPECT_EQ(set->skipped()[0].kid, "broken");
  EXPECT_FALSE(set->skipped()[0].reason.empty());
  EXPECT_EQ(set->skipped()[1].index, 2u);
  EXPECT_EQ(set->skipped()[1].reason, "entry is not a JSON object");
  EXPECT_EQ(set->skipped()[2].index, 4u);
  EXPECT_NE(set->skipped()[2].reason.find("\"k\""), std::string::npos);
}

TEST(Jwks, KeepsEncryptionKeys) {
  auto set = parse_jwks(R"({"keys":[)" + with_member(cli_keys().rsa.public_jwk, "use", "enc") + "]}");
  ASSERT_TRUE(set);
  ASSERT_EQ(set->keys().size(), 1u);
  EXPECT_EQ(set->keys()[0].use(), "enc");
}

TEST(Jwks, RejectsDocumentWithoutKeysArray) {
  for (const char* json : {"[]", "{}", R"({"keys":{}})", R"({"keys":"a"})", "not json", ""}) {
    EXPECT_FALSE(parse_jwks(json)) << json;
  }
}

TEST(Jwks, AcceptsEmptyKeysArray) {
  auto set = parse_jwks(R"({"keys":[]})");
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->keys().empty());
}

TEST(Jwks, RejectsOversizedDocument) {
  const std::string json = R"({"keys":[],"pad":")" + std::string(kMaxJwksBytes, 'a') + R"("})";
  auto set = parse_jwks(json);
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().find("larger than"), std::string::npos);
}

TEST(Jwks, FindsKeysByKid) {
  const auto& keys = cli_keys();
  auto set = parse_jwks(R"({"keys":[)" + keys.rsa.public_jwk + "," + keys.p256.public_jwk + "," +
                        with_member(keys.p384.public_jwk, "kid", "ec-256") + "]}");
  ASSERT_TRUE(set);

  EXPECT_EQ(set->find_by_kid("ec-256").size(), 2u);
  EXPECT_EQ(set->find_by_kid("rsa-1").size(), 1u);
  EXPECT_TRUE(set->find_by_kid("missing").empty());
}

TEST(Jwks, PublicViewOmitsOctAndPrivateMembers) {
  const auto& keys = cli_keys();
  auto set = parse_jwks(R"({"keys":[)" + keys.rsa.private_jwk + "," + keys.hmac_jwk(32, "h") + "," +
                        keys.ed25519.private_jwk + "]}");
  ASSERT_TRUE(set);

  const boost::json::object published = set->to_public_json();

  const boost::json::array& list = published.at("keys").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].as_object(), object_of(keys.rsa.public_jwk));
  EXPECT_EQ(list[1].as_object(), object_of(keys.ed25519.public_jwk));
}

}  // namespace
}  // namespace gh::jose
