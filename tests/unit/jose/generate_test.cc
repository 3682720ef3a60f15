#include "jose/generate.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <regex>
#include <set>

#include "jose/jwk.h"
#include "jose/jws.h"

namespace gh::jose {
namespace {

class GeneratePerAlgorithm : public ::testing::TestWithParam<Algorithm> {};

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, GeneratePerAlgorithm, ::testing::ValuesIn(kAllAlgorithms),
                         [](const auto& param_info) { return std::string(algorithm_name(param_info.param)); });

TEST_P(GeneratePerAlgorithm, MakesOnePrivateSignatureKey) {
  const Algorithm alg = GetParam();

  auto jwks = generate_jwks({.alg = alg, .kid = "key-1", .rsa_bits = kDefaultRsaBits});
  ASSERT_TRUE(jwks) << jwks.error();
  auto set = parse_jwks(boost::json::serialize(*jwks));

  ASSERT_TRUE(set) << set.error();
  EXPECT_TRUE(set->skipped().empty());
  ASSERT_EQ(set->keys().size(), 1u);
  const Jwk& key = set->keys()[0];
  EXPECT_EQ(key.kid(), "key-1");
  EXPECT_EQ(key.use(), "sig");
  EXPECT_EQ(key.alg(), algorithm_name(alg));
  EXPECT_TRUE(key.is_private());
  EXPECT_TRUE(check_key_fits(key, alg));
}

TEST_P(GeneratePerAlgorithm, PublishedKeyVerifiesSignature) {
  const Algorithm alg = GetParam();
  auto jwks = generate_jwks({.alg = alg, .kid = std::nullopt, .rsa_bits = kDefaultRsaBits});
  ASSERT_TRUE(jwks);
  auto set = parse_jwks(boost::json::serialize(*jwks));
  ASSERT_TRUE(set);
  const Jwk& private_key = set->keys()[0];

  auto token = sign(R"({"sub":"s"})", private_key, {.alg = alg, .kid = {}, .typ = "JWT"});
  ASSERT_TRUE(token) << token.error();
  // HS* keys have no public view, so they verify with the secret itself.
  auto published = parse_jwks(boost::json::serialize(set->to_public_json()));
  ASSERT_TRUE(published);
  const JwkSet& verifier = alg == Algorithm::hs256 || alg == Algorithm::hs384 ||
                                   alg == Algorithm::hs512
                               ? *set
                               : *published;
  const Algorithm allowed[] = {alg};

  EXPECT_TRUE(verify(*token, verifier, allowed));
}

TEST(Generate, RsaKeySizes) {
  auto default_size = generate_jwk({.alg = Algorithm::ps256, .kid = "a", .rsa_bits = kDefaultRsaBits});
  auto larger = generate_jwk({.alg = Algorithm::rs512, .kid = "b", .rsa_bits = 3072});
  ASSERT_TRUE(default_size);
  ASSERT_TRUE(larger);

  EXPECT_EQ(parse_jwk(boost::json::serialize(*default_size))->bits(), 2048);
  EXPECT_EQ(parse_jwk(boost::json::serialize(*larger))->bits(), 3072);
}

TEST(Generate, RejectsRsaBelowMinimum) {
  auto result = generate_jwk({.alg = Algorithm::rs256, .kid = "a", .rsa_bits = 1024});
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("2048"), std::string::npos);
}

TEST(Generate, RejectsOverlongKid) {
  EXPECT_FALSE(generate_jwk({.alg = Algorithm::hs256, .kid = std::string(kMaxKidBytes + 1, 'k'),
                             .rsa_bits = kDefaultRsaBits}));
}

TEST(Generate, HmacSecretMatchesHashSize) {
  auto key = generate_jwk({.alg = Algorithm::hs384, .kid = "h", .rsa_bits = kDefaultRsaBits});
  ASSERT_TRUE(key);
  EXPECT_EQ(parse_jwk(boost::json::serialize(*key))->secret().size(), 48u);
}

TEST(Generate, DefaultKidIsUuidV4) {
  const std::regex uuid_v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    auto key = generate_jwk({.alg = Algorithm::es256, .kid = std::nullopt, .rsa_bits = kDefaultRsaBits});
    ASSERT_TRUE(key);
    const std::string kid(key->at("kid").as_string());
    EXPECT_TRUE(std::regex_match(kid, uuid_v4)) << kid;
    seen.insert(kid);
  }
  EXPECT_EQ(seen.size(), 20u);
}

}  // namespace
}  // namespace gh::jose
