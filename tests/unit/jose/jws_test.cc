#include "jose/jws.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "jose/base64url.h"
#include "jose/generate.h"
#include "unit/jose/cli_keys.h"

namespace gh::jose {
namespace {

using testing::cli_keys;
using testing::kAlgorithmNames;
using testing::to_base64url;

constexpr std::string_view kPayload = R"({"sub":"alice","iss":"https://issuer.test"})";

Jwk must_parse(const std::string& json) {
  gh::Expected<Jwk, std::string> key = parse_jwk(json);
  if (!key) throw std::runtime_error("test key does not parse: " + key.error());
  return std::move(*key);
}

JwkSet must_parse_set(const std::string& json) {
  gh::Expected<JwkSet, std::string> set = parse_jwks(json);
  if (!set) throw std::runtime_error("test key set does not parse: " + set.error());
  return std::move(*set);
}

std::string header_for(const std::string& alg, const std::string& kid) {
  return R"({"alg":")" + alg + R"(","kid":")" + kid + R"(","typ":"JWT"})";
}

Algorithm alg_of(const std::string& name) {
  std::optional<Algorithm> alg = parse_algorithm(name);
  if (!alg) throw std::runtime_error("unknown algorithm " + name);
  return *alg;
}

// Replaces one segment (0 header, 1 payload, 2 signature) of a compact token.
std::string replace_segment(const std::string& token, int index, const std::string& segment) {
  const std::size_t first = token.find('.');
  const std::size_t second = token.find('.', first + 1);
  if (index == 0) return segment + token.substr(first);
  if (index == 1) return token.substr(0, first + 1) + segment + token.substr(second);
  return token.substr(0, second + 1) + segment;
}

// A key set holding every verification key made by openssl.
JwkSet all_cli_keys() {
  std::string json = R"({"keys":[)";
  for (const char* alg : {"RS256", "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512"}) {
    json += cli_keys().verification_jwk(alg) + ",";
  }
  json.pop_back();
  return must_parse_set(json + "]}");
}

// The openssl-made key pair for an asymmetric algorithm.
const testing::CliKey& asymmetric_cli_key(const std::string& alg) {
  const auto& keys = cli_keys();
  if (alg[0] == 'R' || alg[0] == 'P') return keys.rsa;
  if (alg == "ES256") return keys.p256;
  if (alg == "ES384") return keys.p384;
  if (alg == "ES512") return keys.p521;
  return keys.ed25519;
}

class JwsPerAlgorithm : public ::testing::TestWithParam<const char*> {};

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, JwsPerAlgorithm, ::testing::ValuesIn(kAlgorithmNames));

TEST_P(JwsPerAlgorithm, VerifiesOpensslToken) {
  const std::string alg = GetParam();
  const std::string kid = cli_keys().kid_for(alg);
  const std::string token = cli_keys().sign(alg, header_for(alg, kid), std::string(kPayload));
  const Algorithm allowed[] = {alg_of(alg)};

  auto result = verify(token, all_cli_keys(), allowed);

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->payload, kPayload);
  EXPECT_EQ(result->kid, kid);
  EXPECT_EQ(result->alg, alg_of(alg));
}

TEST_P(JwsPerAlgorithm, RejectsTamperedPayload) {
  const std::string alg = GetParam();
  const std::string token =
      cli_keys().sign(alg, header_for(alg, cli_keys().kid_for(alg)), std::string(kPayload));
  const std::string tampered =
      replace_segment(token, 1, to_base64url(R"({"sub":"mallory","iss":"https://issuer.test"})"));
  const Algorithm allowed[] = {alg_of(alg)};

  auto result = verify(tampered, all_cli_keys(), allowed);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, VerifyErrorCode::bad_signature);
}

TEST_P(JwsPerAlgorithm, RejectsTamperedSignature) {
  const std::string alg = GetParam();
  const std::string token =
      cli_keys().sign(alg, header_for(alg, cli_keys().kid_for(alg)), std::string(kPayload));
  std::string signature = *base64url_decode(token.substr(token.rfind('.') + 1));
  signature[signature.size() / 2] ^= 0x01;
  const Algorithm allowed[] = {alg_of(alg)};

  auto result = verify(replace_segment(token, 2, to_base64url(signature)), all_cli_keys(), allowed);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, VerifyErrorCode::bad_signature);
}

TEST_P(JwsPerAlgorithm, SignVerifyRoundTrip) {
  const Algorithm alg = alg_of(GetParam());
  auto generated = generate_jwk({.alg = alg, .kid = "round-trip", .rsa_bits = 2048});
  ASSERT_TRUE(generated) << generated.error();
  const Jwk key = must_parse(boost::json::serialize(*generated));

  auto token = sign(kPayload, key, {.alg = alg, .kid = std::nullopt, .typ = "at+jwt"});
  ASSERT_TRUE(token) << token.error();
  const Algorithm allowed[] = {alg};
  auto result = verify(*token, key, allowed);

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->payload, kPayload);
  EXPECT_EQ(result->kid, "round-trip");
  EXPECT_EQ(result->header.at("typ").as_string(), "at+jwt");
}

TEST_P(JwsPerAlgorithm, OpensslKeySignsAndVerifies) {
  const std::string name = GetParam();
  if (name.starts_with("HS")) GTEST_SKIP() << "oct keys have no separate public view";
  const testing::CliKey* cli = &asymmetric_cli_key(name);

  auto token = sign(kPayload, must_parse(cli->private_jwk), {.alg = alg_of(name), .kid = {}, .typ = {}});
  ASSERT_TRUE(token) << token.error();
  const Algorithm allowed[] = {alg_of(name)};

  EXPECT_TRUE(verify(*token, must_parse(cli->public_jwk), allowed));
}

TEST_P(JwsPerAlgorithm, OpensslVerifiesGatehouseSignature) {
  const std::string name = GetParam();
  if (name.starts_with("HS")) GTEST_SKIP() << "HMAC is covered by the openssl-made tokens";
  const auto& keys = cli_keys();
  const testing::CliKey* cli = &asymmetric_cli_key(name);
  auto token = sign(kPayload, must_parse(cli->private_jwk), {.alg = alg_of(name), .kid = {}, .typ = {}});
  ASSERT_TRUE(token) << token.error();

  const std::size_t last_dot = token->rfind('.');
  std::string signature = *base64url_decode(token->substr(last_dot + 1));
  if (name.starts_with("ES")) signature = testing::raw_signature_to_der(signature);
  keys.ws.write("verify.txt", token->substr(0, last_dot));
  keys.ws.write("verify.sig", signature);

  std::string command;
  if (name == "EdDSA") {
    command = "pkeyutl -verify -pubin -inkey " + cli->public_pem + " -rawin -in verify.txt -sigfile verify.sig";
  } else {
    command = "dgst -sha" + name.substr(2) + " -verify " + cli->public_pem +
              (name[0] == 'P' ? " -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest" : "") +
              " -signature verify.sig verify.txt";
  }
  EXPECT_TRUE(keys.ws.openssl_succeeds(command)) << keys.ws.read("cmd.out");
}

TEST_P(JwsPerAlgorithm, RejectsAlgorithmOutsideAllowList) {
  const std::string alg = GetParam();
  const std::string token =
      cli_keys().sign(alg, header_for(alg, cli_keys().kid_for(alg)), std::string(kPayload));
  std::vector<Algorithm> others;
  for (Algorithm candidate : kAllAlgorithms) {
    if (candidate != alg_of(alg)) others.push_back(candidate);
  }

  auto result = verify(token, all_cli_keys(), others);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, VerifyErrorCode::algorithm_not_allowed);
}

TEST(Jws, RejectsWrongKey) {
  auto other = generate_jwk({.alg = Algorithm::rs256, .kid = "rsa-1", .rsa_bits = 2048});
  ASSERT_TRUE(other);
  const std::string token = cli_keys().sign("RS256", header_for("RS256", "rsa-1"), std::string(kPayload));

  auto result = verify(token, must_parse(boost::json::serialize(*other)), kAllAlgorithms);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, VerifyErrorCode::bad_signature);
}

TEST(Jws, RejectsAlgNoneInEverySpelling) {
  for (const char* none : {"none", "None", "NONE", "nOnE"}) {
    const std::string header = std::string(R"({"alg":")") + none + R"(","kid":"hmac-HS256"})";
    for (const std::string& signature : {std::string(), to_base64url("x")}) {
      const std::string token = to_base64url(header) + "." + to_base64url(kPayload) + "." + signature;
      auto result = verify(token, all_cli_keys(), kAllAlgorithms);
      ASSERT_FALSE(result) << none;
      EXPECT_EQ(result.error().code, VerifyErrorCode::unsupported_algorithm) << none;
    }
  }
}

TEST(Jws, RejectsMissingOrUnknownAlg) {
  for (const char* header : {R"({"kid":"rsa-1"})", R"({"alg":7})", R"({"alg":"rs256"})",
                             R"({"alg":"HS1024"})"}) {
    const std::string token = to_base64url(header) + "." + to_base64url(kPayload) + ".c2ln";
    auto result = verify(token, all_cli_keys(), kAllAlgorithms);
    ASSERT_FALSE(result) << header;
    EXPECT_EQ(result.error().code, VerifyErrorCode::unsupported_algorithm) << header;
  }
}

// The classic confusion attack: sign HS256 with the issuer's RSA public key as the secret.
TEST(Jws, RsaPublicKeyNeverVerifiesHmac) {
  const auto& keys = cli_keys();
  const std::string pem = keys.ws.read(keys.rsa.public_pem);
  const std::string input = to_base64url(header_for("HS256", "rsa-1")) + "." + to_base64url(kPayload);
  keys.ws.write("confusion.txt", input);
  keys.ws.write("confusion.key", pem);
  keys.ws.openssl("dgst -sha256 -mac HMAC -macopt hexkey:" + testing::to_hex(pem) +
                  " -binary -out confusion.sig confusion.txt");
  const std::string token = input + "." + to_base64url(keys.ws.read("confusion.sig"));
  const JwkSet rsa_only = must_parse_set(R"({"keys":[)" + keys.rsa.public_jwk + "]}");

  auto by_kid = verify(token, rsa_only, kAllAlgorithms);
  auto by_key = verify(token, must_parse(keys.rsa.public_jwk), kAllAlgorithms);
  auto without_kid = verify(replace_segment(token, 0, to_base64url(R"({"alg":"HS256"})")),
                            rsa_only, kAllAlgorithms);

  ASSERT_FALSE(by_kid);
  EXPECT_EQ(by_kid.error().code, VerifyErrorCode::key_type_mismatch);
  ASSERT_FALSE(by_key);
  EXPECT_EQ(by_key.error().code, VerifyErrorCode::key_type_mismatch);
  ASSERT_FALSE(without_kid);
  EXPECT_EQ(without_kid.error().code, VerifyErrorCode::key_not_found);
}

TEST(Jws, RejectsUnknownKid) {
  const std::string token = cli_keys().sign("ES256", header_for("ES256", "no-such-key"), std::string(kPayload));

  auto result = verify(token, all_cli_keys(), kAllAlgorithms);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, VerifyErrorCode::key_not_found);
}

TEST(Jws, EncryptionKeyNeverVerifies) {
  std::string jwk = cli_keys().p256.public_jwk;
  jwk.insert(1, R"("use":"enc",)");
  const JwkSet set = must_parse_set(R"({"keys":[)" + jwk + "]}");
  ASSERT_EQ(set.keys().size(), 1u);
  const std::string token = cli_keys().sign("ES256", header_for("ES256", "ec-256"), std::string(kPayload));
  const Algorithm allowed[] = {Algorithm::es256};

  auto by_set = verify(token, set, allowed);
  auto by_key = verify(token, set.keys()[0], allowed);

  ASSERT_FALSE(by_set);
  EXPECT_EQ(by_set.error().code, VerifyErrorCode::key_not_found);
  ASSERT_FALSE(by_key);
  EXPECT_EQ(by_key.error().code, VerifyErrorCode::key_not_found);
}

TEST(Jws, SignatureKeyUseVerifies) {
  std::string jwk = cli_keys().p256.public_jwk;
  jwk.insert(1, R"("use":"sig",)");
  const std::string token = cli_keys().sign("ES256", header_for("ES256", "ec-256"), std::string(kPayload));
  const Algorithm allowed[] = {Algorithm::es256};

  EXPECT_TRUE(verify(token, must_parse_set(R"({"keys":[)" + jwk + "]}"), allowed));
}

TEST(Jws, RejectsShortHmacKey) {
  // 31 bytes: one short of the SHA-256 output.
  const std::string short_key = cli_keys().hmac_jwk(31, "short");
  const std::string token = cli_keys().sign("HS256", header_for("HS256", "short"), std::string(kPayload));
  const Algorithm allowed[] = {Algorithm::hs256};

  auto result = verify(token, must_parse_set(R"({"keys":[)" + short_key + "]}"), allowed);
  auto signing = sign(kPayload, must_parse(short_key), {.alg = Algorithm::hs256, .kid = {}, .typ = {}});

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, VerifyErrorCode::key_type_mismatch);
  EXPECT_FALSE(signing);
}

TEST(Jws, HmacKeyLongerThanHashVerifies) {
  const std::string long_key = cli_keys().hmac_jwk(64, "hmac-HS256");
  auto token = sign(kPayload, must_parse(long_key), {.alg = Algorithm::hs256, .kid = {}, .typ = {}});
  ASSERT_TRUE(token) << token.error();
  const Algorithm allowed[] = {Algorithm::hs256};

  EXPECT_TRUE(verify(*token, must_parse(long_key), allowed));
}

TEST(Jws, RejectsSmallRsaKey) {
  const Jwk small = must_parse(cli_keys().rsa_1024.private_jwk);
  const std::string token = to_base64url(header_for("RS256", "rsa-small")) + "." +
                            to_base64url(kPayload) + "." + to_base64url(std::string(128, 'x'));

  auto result = verify(token, small, kAllAlgorithms);
  auto signing = sign(kPayload, small, {.alg = Algorithm::rs256, .kid = {}, .typ = {}});

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, VerifyErrorCode::key_type_mismatch);
  EXPECT_FALSE(signing);
}

TEST(Jws, RejectsBadBase64url) {
  const std::string token = cli_keys().sign("HS256", header_for("HS256", "hmac-HS256"), std::string(kPayload));
  const std::string signature = token.substr(token.rfind('.') + 1);
  const std::string variants[] = {
      replace_segment(token, 2, signature + "="),                 // padding
      replace_segment(token, 2, signature.substr(1) + "+"),       // standard alphabet
      replace_segment(token, 2, signature.substr(1) + "/"),
      replace_segment(token, 1, " " + to_base64url(kPayload)),    // whitespace
      replace_segment(token, 2, signature + "AA"),                // 4n+1 characters
      replace_segment(token, 2, signature.substr(0, 42) + "B"),   // nonzero unused bits
  };

  for (const std::string& variant : variants) {
    auto result = verify(variant, all_cli_keys(), kAllAlgorithms);
    ASSERT_FALSE(result) << variant;
    EXPECT_EQ(result.error().code, VerifyErrorCode::malformed) << variant;
  }
}

TEST(Jws, RejectsWrongSegmentCount) {
  const std::string token = cli_keys().sign("HS256", header_for("HS256", "hmac-HS256"), std::string(kPayload));
  const std::string variants[] = {token + ".", token + "." + to_base64url("x"),
                                  token.substr(0, token.rfind('.')), "", "..", "abc"};

  for (const std::string& variant : variants) {
    auto result = verify(variant, all_cli_keys(), kAllAlgorithms);
    ASSERT_FALSE(result) << variant;
    EXPECT_EQ(result.error().code, VerifyErrorCode::malformed) << variant;
  }
}

TEST(Jws, RejectsOversizedTokenBeforeDecoding) {
  const std::string payload = R"({"pad":")" + std::string(kMaxTokenBytes, 'a') + R"("})";
  auto key = cli_keys().hmac_jwk(32, "hmac-HS256");
  auto token = sign(payload, must_parse(key), {.alg = Algorithm::hs256, .kid = {}, .typ = {}});
  ASSERT_TRUE(token);

  auto result = verify(*token, must_parse(key), kAllAlgorithms);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, VerifyErrorCode::malformed);
  EXPECT_NE(result.error().message.find("longer than"), std::string::npos);
}

TEST(Jws, RejectsHeaderThatIsNotAnObject) {
  for (const char* header : {"[]", R"("RS256")", "{", "null"}) {
    const std::string token = to_base64url(header) + "." + to_base64url(kPayload) + ".c2ln";
    auto result = verify(token, all_cli_keys(), kAllAlgorithms);
    ASSERT_FALSE(result) << header;
    EXPECT_EQ(result.error().code, VerifyErrorCode::malformed) << header;
  }
}

TEST(Jws, P256SignatureAsEs384Fails) {
  const std::string es256 = cli_keys().sign("ES256", header_for("ES256", "ec-256"), std::string(kPayload));
  const std::string signature = es256.substr(es256.rfind('.') + 1);

  // Same kid, relabelled ES384: the P-256 key does not fit ES384.
  const std::string relabelled = to_base64url(header_for("ES384", "ec-256")) + "." +
                                 to_base64url(kPayload) + "." + signature;
  auto mismatch = verify(relabelled, all_cli_keys(), kAllAlgorithms);
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().code, VerifyErrorCode::key_type_mismatch);

  // Pointed at the P-384 key: the 64-byte signature has the wrong length for ES384.
  const std::string retargeted = to_base64url(header_for("ES384", "ec-384")) + "." +
                                 to_base64url(kPayload) + "." + signature;
  auto bad = verify(retargeted, all_cli_keys(), kAllAlgorithms);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, VerifyErrorCode::bad_signature);
}

TEST(Jws, RejectsDerEncodedEcdsaSignature) {
  const auto& keys = cli_keys();
  const std::string input = to_base64url(header_for("ES256", "ec-256")) + "." + to_base64url(kPayload);
  keys.ws.write("der.txt", input);
  keys.ws.openssl("dgst -sha256 -sign " + keys.p256.private_pem + " -out der.sig der.txt");
  const Algorithm allowed[] = {Algorithm::es256};

  auto result = verify(input + "." + to_base64url(keys.ws.read("der.sig")), all_cli_keys(), allowed);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, VerifyErrorCode::bad_signature);
}

TEST(Jws, RejectsCriticalExtensions) {
  const std::string header = R"({"alg":"HS256","kid":"hmac-HS256","crit":["exp"],"exp":1})";
  const std::string token = cli_keys().sign("HS256", header, std::string(kPayload));

  auto result = verify(token, all_cli_keys(), kAllAlgorithms);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, VerifyErrorCode::malformed);
}

TEST(Jws, IgnoresEmbeddedKeyHeaders) {
  // The attacker signs with their own key and offers it in every key-carrying header.
  const auto& ws = cli_keys().ws;
  const testing::CliKey attacker = testing::make_cli_key(
      ws, "attacker", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", "EC", "ec-256", "P-256", 32);
  const std::string header = R"({"alg":"ES256","kid":"ec-256","jwk":)" + attacker.public_jwk +
                             R"(,"jku":"http://127.0.0.1:1/keys","x5u":"http://127.0.0.1:1/cert",)"
                             R"("x5c":["MIIB"]})";
  const std::string input = to_base64url(header) + "." + to_base64url(kPayload);
  ws.write("attacker.txt", input);
  ws.openssl("dgst -sha256 -sign " + attacker.private_pem + " -out attacker.sig attacker.txt");
  const std::string token =
      input + "." + to_base64url(testing::der_signature_to_raw(ws.read("attacker.sig"), 32));
  const Algorithm allowed[] = {Algorithm::es256};

  auto result = verify(token, all_cli_keys(), allowed);
  auto with_own_key = verify(token, must_parse(attacker.public_jwk), allowed);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, VerifyErrorCode::bad_signature);
  EXPECT_TRUE(with_own_key) << "the token itself is well formed";
}

TEST(Jws, TriesEveryFittingKeyWithoutKid) {
  auto first = generate_jwk({.alg = Algorithm::es256, .kid = "first", .rsa_bits = 2048});
  ASSERT_TRUE(first);
  const std::string set_json = R"({"keys":[)" + boost::json::serialize(*first) + "," +
                               cli_keys().rsa.public_jwk + "," + cli_keys().p256.public_jwk + "]}";
  const std::string token = cli_keys().sign("ES256", R"({"alg":"ES256"})", std::string(kPayload));
  const Algorithm allowed[] = {Algorithm::es256};

  auto result = verify(token, must_parse_set(set_json), allowed);

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_TRUE(result->kid.empty());
}

TEST(Jws, KeyAlgMemberMustMatch) {
  std::string jwk = cli_keys().rsa.public_jwk;
  jwk.insert(1, R"("alg":"RS256",)");
  const std::string token = cli_keys().sign("PS256", header_for("PS256", "rsa-1"), std::string(kPayload));

  auto result = verify(token, must_parse_set(R"({"keys":[)" + jwk + "]}"), kAllAlgorithms);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, VerifyErrorCode::key_type_mismatch);
}

TEST(Jws, RejectsOverlongKid) {
  const std::string token = cli_keys().sign(
      "HS256", header_for("HS256", std::string(kMaxKidBytes + 1, 'k')), std::string(kPayload));

  auto result = verify(token, all_cli_keys(), kAllAlgorithms);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, VerifyErrorCode::malformed);
}

TEST(Jws, SigningNeedsPrivateKey) {
  auto result = sign(kPayload, must_parse(cli_keys().p256.public_jwk),
                     {.alg = Algorithm::es256, .kid = {}, .typ = {}});

  EXPECT_FALSE(result);
}

TEST(Jws, SignWritesRequestedHeaders) {
  const Jwk key = must_parse(cli_keys().hmac_jwk(32, "own-kid"));

  auto with_override = sign(kPayload, key, {.alg = Algorithm::hs256, .kid = "other", .typ = "JWT"});
  auto plain = sign(kPayload, key, {.alg = Algorithm::hs256, .kid = {}, .typ = {}});
  ASSERT_TRUE(with_override);
  ASSERT_TRUE(plain);

  auto decoded = decode_unverified(*with_override);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->header.at("alg").as_string(), "HS256");
  EXPECT_EQ(decoded->header.at("kid").as_string(), "other");
  EXPECT_EQ(decoded->header.at("typ").as_string(), "JWT");
  auto decoded_plain = decode_unverified(*plain);
  ASSERT_TRUE(decoded_plain);
  EXPECT_EQ(decoded_plain->kid, "own-kid");
  EXPECT_FALSE(decoded_plain->header.contains("typ"));
}

TEST(Jws, AlgorithmNamesRoundTrip) {
  for (Algorithm alg : kAllAlgorithms) {
    EXPECT_EQ(parse_algorithm(algorithm_name(alg)), alg);
  }
  EXPECT_FALSE(parse_algorithm("none"));
  EXPECT_FALSE(parse_algorithm("es256"));
}

}  // namespace
}  // namespace gh::jose
