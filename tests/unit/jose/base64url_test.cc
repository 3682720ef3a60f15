#include "jose/base64url.h"

#include <gtest/gtest.h>

namespace gh::jose {
namespace {

TEST(Base64url, EncodesRfc4648Vectors) {
  // RFC 4648 §10 vectors, with the padding removed.
  EXPECT_EQ(base64url_encode(std::string_view("")), "");
  EXPECT_EQ(base64url_encode(std::string_view("f")), "Zg");
  EXPECT_EQ(base64url_encode(std::string_view("fo")), "Zm8");
  EXPECT_EQ(base64url_encode(std::string_view("foo")), "Zm9v");
  EXPECT_EQ(base64url_encode(std::string_view("foob")), "Zm9vYg");
  EXPECT_EQ(base64url_encode(std::string_view("fooba")), "Zm9vYmE");
  EXPECT_EQ(base64url_encode(std::string_view("foobar")), "Zm9vYmFy");
}

TEST(Base64url, UsesUrlAlphabet) {
  EXPECT_EQ(base64url_encode(std::string_view("\xfb\xff\xbf")), "-_-_");
  EXPECT_EQ(base64url_decode("-_-_"), std::string("\xfb\xff\xbf"));
}

TEST(Base64url, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    EXPECT_EQ(base64url_decode(base64url_encode(bytes)), bytes) << "length " << i;
    bytes += static_cast<char>(i * 37 + 11);
  }
}

TEST(Base64url, RejectsNonStrictInput) {
  const char* invalid[] = {"Zg==", "Zm8=", "+w", "/w", "Zm 9v", "Zm9v\n", "Z", "Zm9vY",
                           "Zh",    // unused bits set: "f" encodes only as "Zg"
                           "Zm-"};  // unused bits set in a two-byte tail
  for (const char* text : invalid) {
    EXPECT_FALSE(base64url_decode(text)) << text;
  }
  EXPECT_EQ(base64url_decode("Zg"), std::string("f"));
}

}  // namespace
}  // namespace gh::jose

namespace gh::jose {
namespace {

TEST(Base64Standard, EncodesWithAndWithoutPadding) {
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("f", Padding::without), "Zg");
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
}

TEST(Base64Standard, DecodesPaddedAndUnpadded) {
  EXPECT_EQ(base64_decode("Zg=="), "f");
  EXPECT_EQ(base64_decode("Zg"), "f");
  EXPECT_EQ(base64_decode("Zm8="), "fo");
  EXPECT_EQ(base64_decode("+/8="), "\xfb\xff");
  EXPECT_EQ(base64_decode(""), "");
}

TEST(Base64Standard, RejectsMalformedText) {
  EXPECT_EQ(base64_decode("Zg="), std::nullopt);    // padding that does not complete a group
  EXPECT_EQ(base64_decode("Zg==="), std::nullopt);  // three padding characters
  EXPECT_EQ(base64_decode("Z=g="), std::nullopt);   // padding inside the text
  EXPECT_EQ(base64_decode("-_8="), std::nullopt);   // base64url alphabet
  EXPECT_EQ(base64_decode("Zh=="), std::nullopt);   // non-zero unused bits
  EXPECT_EQ(base64_decode("Z"), std::nullopt);      // six bits cannot form a byte
  EXPECT_EQ(base64_decode("Zm 8"), std::nullopt);
}

}  // namespace
}  // namespace gh::jose
