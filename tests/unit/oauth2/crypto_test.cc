#include "oauth2/crypto.h"

#include <gtest/gtest.h>

#include "oauth2/opaque_token.h"
#include "oauth2/secret_verifier.h"

namespace gh::oauth2 {
namespace {

TEST(SecretHash, VerifiesRightSecretOnly) {
  std::string hash = hash_secret("correct horse", 1000);
  EXPECT_TRUE(hash.starts_with("$pbkdf2-sha256$i=1000,l=32$")) << hash;
  EXPECT_TRUE(verify_secret("correct horse", hash));
  EXPECT_FALSE(verify_secret("correct hors", hash));
  EXPECT_FALSE(verify_secret("", hash));
}

TEST(SecretHash, SaltDiffersPerHash) { EXPECT_NE(hash_secret("same", 1000), hash_secret("same", 1000)); }

TEST(SecretHash, DefaultIterationCount) {
  EXPECT_GE(kPbkdf2Iterations, 100'000);
  EXPECT_NE(hash_secret("secret-value").find("i=" + std::to_string(kPbkdf2Iterations) + ","), std::string::npos);
}

TEST(SecretHash, MalformedHashesFail) {
  for (std::string_view hash : {"", "plain", "$pbkdf2-sha256$", "$pbkdf2-sha256$i=10,l=32$", "$pbkdf2-sha256$i=x,l=32$YQ$YQ",
                                "$pbkdf2-sha256$i=0,l=32$YWJj$YWJj", "$pbkdf2-sha256$i=99999999999,l=32$YWJj$YWJj",
                                "$pbkdf2-sha256$i=10,l=32$!!$YWJj", "$bcrypt$whatever"}) {
    EXPECT_FALSE(verify_secret("secret", hash)) << hash;
  }
}

TEST(SecretHash, ReadsHydraLayout) {
  // A hash in the layout Hydra stores: PBKDF2-HMAC-SHA256 of "password" with salt "salt"
  // and 1 iteration is 120fb6cf...0be17b (computed with Python's hashlib).
  std::string hash = "$pbkdf2-sha256$i=1,l=32$c2FsdA$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs";
  EXPECT_TRUE(verify_secret("password", hash));
  EXPECT_FALSE(verify_secret("Password", hash));
}

TEST(SecretVerifier, CachesOnlySuccess) {
  SecretVerifier verifier(2);
  std::string hash = hash_secret("secret-1", 1000);
  EXPECT_FALSE(verifier.verify("client", "wrong", hash));
  EXPECT_EQ(verifier.cached_entries(), 0u);
  EXPECT_TRUE(verifier.verify("client", "secret-1", hash));
  EXPECT_EQ(verifier.cached_entries(), 1u);
  EXPECT_TRUE(verifier.verify("client", "secret-1", hash));
  EXPECT_EQ(verifier.cached_entries(), 1u);
}

TEST(SecretVerifier, NewHashMissesCache) {
  SecretVerifier verifier;
  std::string old_hash = hash_secret("secret-1", 1000);
  ASSERT_TRUE(verifier.verify("client", "secret-1", old_hash));
  std::string new_hash = hash_secret("secret-2", 1000);
  EXPECT_FALSE(verifier.verify("client", "secret-1", new_hash));
}

TEST(SecretVerifier, CapacityBoundsEntries) {
  SecretVerifier verifier(2);
  for (int i = 0; i < 5; ++i) {
    std::string secret = "secret-" + std::to_string(i);
    ASSERT_TRUE(verifier.verify("client", secret, hash_secret(secret, 1000)));
  }
  EXPECT_EQ(verifier.cached_entries(), 2u);
}

TEST(Seal, RoundTripsAndRejectsOtherSecret) {
  std::string sealed = seal("system secret one, 32 bytes long!", "private key");
  EXPECT_EQ(open_sealed("system secret one, 32 bytes long!", sealed), std::optional<std::string>("private key"));
  EXPECT_EQ(open_sealed("system secret two, 32 bytes long!", sealed), std::nullopt);
  EXPECT_EQ(open_sealed("system secret one, 32 bytes long!", "AAAA"), std::nullopt);
  std::string tampered = sealed;
  tampered[20] = tampered[20] == 'A' ? 'B' : 'A';
  EXPECT_EQ(open_sealed("system secret one, 32 bytes long!", tampered), std::nullopt);
}

TEST(OpaqueToken, HasHydraShape) {
  OpaqueToken token = make_opaque_token("a system secret of at least 32 bytes");
  EXPECT_TRUE(token.token.starts_with("ory_at_"));
  EXPECT_EQ(token.token.size(), 7u + 43 + 1 + 43);
  EXPECT_EQ(token.token.substr(7 + 44), token.signature);
}

TEST(OpaqueToken, ChecksSignatureWithEverySecret) {
  std::vector<std::string> secrets = {"new secret, at least 32 bytes long", "old secret, at least 32 bytes long"};
  OpaqueToken old_token = make_opaque_token(secrets[1]);
  EXPECT_EQ(check_opaque_token(old_token.token, secrets), std::optional<std::string>(old_token.signature));
  EXPECT_EQ(check_opaque_token(old_token.token, {secrets[0]}), std::nullopt);
}

TEST(OpaqueToken, RejectsMalformed) {
  std::vector<std::string> secrets = {"a system secret of at least 32 bytes"};
  OpaqueToken token = make_opaque_token(secrets[0]);
  std::string flipped = token.token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  for (const std::string& bad : {std::string(), token.token.substr(7), token.token + "A", flipped,
                                 std::string("ory_at_") + std::string(87, '.'), std::string("ory_rt_") + token.token.substr(7)}) {
    EXPECT_EQ(check_opaque_token(bad, secrets), std::nullopt) << bad;
  }
}

TEST(OpaqueToken, SignatureKeyIsSha256Hex) {
  EXPECT_EQ(signature_key("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace gh::oauth2
