#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <gtest/gtest.h>

#include "config/config.h"

namespace gh::config {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

std::string fixture(const std::string& name) {
  return (std::filesystem::path(__FILE__).parent_path() / "fixtures" / name).string();
}

TEST(Settings, ServersFromLoadedConfig) {
  const Settings settings = to_settings(load({fixture("base.yaml")}, {{"SERVE_API_TIMEOUT_WRITE", "30s"}}));
  EXPECT_EQ(settings.proxy.host, "127.0.0.1");
  EXPECT_EQ(settings.proxy.port, 7100);
  EXPECT_EQ(settings.proxy.read_timeout, 5s);
  EXPECT_EQ(settings.proxy.idle_timeout, 120s);
  EXPECT_FALSE(settings.proxy.trust_forwarded_headers);
  EXPECT_FALSE(settings.proxy.tls.has_value());
  EXPECT_EQ(settings.api.port, 7101);
  EXPECT_EQ(settings.api.write_timeout, 30s);
  EXPECT_EQ(settings.log_level, "info");
  EXPECT_EQ(settings.log_format, "text");
  EXPECT_EQ(settings.matching_strategy, "regexp");
  EXPECT_EQ(settings.repositories, std::vector<std::string>{"file:///srv/gatehouse/rules.yaml"});
  EXPECT_TRUE(settings.document.contains("authenticators"));
}

TEST(Settings, TlsOnListenersIsRefusedAfterReadingIt) {
  const auto key_file = std::filesystem::temp_directory_path() / ("gatehouse-key-" + std::to_string(getpid()) + ".pem");
  std::ofstream(key_file) << "KEY PEM TEXT";
  json::object document = load({}, {});
  // "CERT PEM TEXT" in base64.
  document["serve"].as_object()["proxy"].as_object()["tls"] =
      json::parse(R"({"cert": {"base64": "Q0VSVCBQRU0gVEVYVA=="}, "key": {"path": ")" + key_file.string() + R"("}})");

  // A readable certificate and key still stop start-up: serving plain HTTP instead would
  // silently drop the encryption the operator asked for.
  try {
    to_settings(document);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.problems().size(), 1u);
    EXPECT_EQ(error.problems()[0].path, "serve.proxy.tls");
    EXPECT_NE(error.problems()[0].message.find("does not terminate TLS"), std::string::npos);
  }
  std::filesystem::remove(key_file);
}

TEST(Settings, RemoteRuleRepositoriesAreRefused) {
  json::object document = load({}, {});
  document["access_rules"].as_object()["repositories"] =
      json::array{"file:///srv/rules.yaml", "https://rules.test/rules.json", "inline://W10=", "s3://bucket/rules.json"};
  try {
    to_settings(document);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.problems().size(), 2u);
    EXPECT_EQ(error.problems()[0].path, "access_rules.repositories[1]");
    EXPECT_NE(error.problems()[0].message.find("\"https://\": unsupported scheme"), std::string::npos);
    EXPECT_EQ(error.problems()[1].path, "access_rules.repositories[3]");
  }
}

TEST(Settings, TlsNeedsCertAndKey) {
  json::object document = load({}, {});
  document["serve"].as_object()["api"].as_object()["tls"] = json::parse(R"({"cert": {"base64": "QUJD"}})");
  try {
    to_settings(document);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.problems().size(), 1u);
    EXPECT_EQ(error.problems()[0].path, "serve.api.tls");
  }
}

TEST(Settings, UnreadableTlsFile) {
  json::object document = load({}, {});
  document["serve"].as_object()["proxy"].as_object()["tls"] =
      json::parse(R"({"cert": {"path": "/nonexistent/cert.pem"}, "key": {"base64": "QUJD"}})");
  try {
    to_settings(document);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.problems().size(), 1u);
    EXPECT_EQ(error.problems()[0].path, "serve.proxy.tls.cert.path");
  }
}

TEST(Settings, InvalidBase64) {
  json::object document = load({}, {});
  document["serve"].as_object()["proxy"].as_object()["tls"] =
      json::parse(R"({"cert": {"base64": "not*base64"}, "key": {"base64": "QUJD"}})");
  EXPECT_THROW(to_settings(document), ConfigError);
}

}  // namespace
}  // namespace gh::config
