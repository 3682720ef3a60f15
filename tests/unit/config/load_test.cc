#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <gtest/gtest.h>

#include "config/config.h"
#include "config/schema_text.h"

namespace gh::config {
namespace {

namespace json = boost::json;

std::string fixture(const std::string& name) {
  return (std::filesystem::path(__FILE__).parent_path() / "fixtures" / name).string();
}

// Writes `text` to a fresh file in the test's temporary folder and returns its path.
std::string write_temp(const std::string& name, const std::string& text) {
  const auto folder = std::filesystem::temp_directory_path() / ("gatehouse-config-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(folder);
  const auto path = folder / name;
  std::ofstream(path) << text;
  return path.string();
}

std::vector<Problem> problems_of(const std::vector<std::string>& files, const Environment& environment = {}) {
  try {
    load(files, environment);
  } catch (const ConfigError& error) {
    return error.problems();
  }
  return {};
}

const json::value& at(const json::object& document, std::initializer_list<std::string_view> path) {
  const json::value* current = nullptr;
  const json::object* scope = &document;
  for (std::string_view key : path) {
    current = &scope->at(key);
    scope = current->if_object();
  }
  return *current;
}

TEST(Load, EmbeddedSchemaMatchesSchemaFile) {
  // schema_text.cc is generated from schema.json by embed_schema.py; both must agree.
  const auto path = std::filesystem::path(__FILE__).parent_path() / "../../../src/config/schema.json";
  std::ifstream stream(path);
  ASSERT_TRUE(stream) << path;
  std::ostringstream file_text;
  file_text << stream.rdbuf();
  EXPECT_EQ(file_text.str(), schema_text()) << "run python3 src/config/embed_schema.py";
}

TEST(Load, LaterFilesOverrideEarlierOnes) {
  const json::object document = load({fixture("base.yaml"), fixture("override.json"), fixture("last.yaml")}, {});
  EXPECT_EQ(at(document, {"serve", "proxy", "port"}), json::value(7300));
  EXPECT_EQ(at(document, {"serve", "proxy", "host"}), json::value("127.0.0.1"));
  EXPECT_EQ(at(document, {"serve", "proxy", "timeout", "read"}), json::value("2s"));
  EXPECT_EQ(at(document, {"serve", "proxy", "timeout", "write"}), json::value("120s"));
  EXPECT_EQ(at(document, {"access_rules", "repositories"}), (json::array{"file:///srv/gatehouse/other.yaml"}));
  EXPECT_EQ(at(document, {"access_rules", "matching_strategy"}), json::value("glob"));
  EXPECT_EQ(at(document, {"log", "level"}), json::value("debug"));
}

TEST(Load, DefaultsFillAbsentKeys) {
  const json::object document = load({}, {});
  EXPECT_EQ(at(document, {"serve", "proxy", "port"}), json::value(4455));
  EXPECT_EQ(at(document, {"serve", "api", "port"}), json::value(4456));
  EXPECT_EQ(at(document, {"serve", "api", "timeout", "read"}), json::value("5s"));
  EXPECT_EQ(at(document, {"serve", "api", "timeout", "write"}), json::value("120s"));
  EXPECT_EQ(at(document, {"serve", "api", "timeout", "idle"}), json::value("120s"));
  EXPECT_EQ(at(document, {"log", "level"}), json::value("info"));
  EXPECT_EQ(at(document, {"log", "format"}), json::value("text"));
  EXPECT_EQ(at(document, {"access_rules", "matching_strategy"}), json::value("regexp"));
  EXPECT_EQ(at(document, {"errors", "fallback"}), (json::array{"json"}));
  EXPECT_EQ(at(document, {"errors", "handlers", "json", "enabled"}), json::value(true));
  // The token service's admin API has no authentication, so it stays on loopback by default.
  EXPECT_EQ(at(document, {"oauth2", "serve", "admin", "host"}), json::value("127.0.0.1"));
  EXPECT_EQ(at(document, {"oauth2", "serve", "public", "host"}), json::value(""));
}

TEST(Load, DefaultsPresentForDisabledHandlers) {
  const json::object document = load({}, {});
  EXPECT_EQ(at(document, {"authenticators", "bearer_token", "enabled"}), json::value(false));
  EXPECT_EQ(at(document, {"authenticators", "bearer_token", "config", "subject_from"}), json::value("sub"));
  EXPECT_EQ(at(document, {"authenticators", "cookie_session", "config", "subject_from"}), json::value("subject"));
  EXPECT_EQ(at(document, {"authenticators", "oauth2_introspection", "config", "cache", "max_cost"}),
            json::value(100000000));
  EXPECT_EQ(at(document, {"authenticators", "oauth2_introspection", "config", "retry", "max_delay"}),
            json::value("100ms"));
  EXPECT_EQ(at(document, {"mutators", "id_token", "config", "ttl"}), json::value("15m"));
  EXPECT_EQ(at(document, {"errors", "handlers", "www_authenticate", "config", "realm"}),
            json::value("Please authenticate."));
}

TEST(Load, EnvironmentOverridesFiles) {
  const json::object document =
      load({fixture("base.yaml")}, {{"SERVE_PROXY_PORT", "4460"}, {"LOG_LEVEL", "warn"}, {"HOME", "/root"}});
  EXPECT_EQ(at(document, {"serve", "proxy", "port"}), json::value(4460));
  EXPECT_EQ(at(document, {"log", "level"}), json::value("warn"));
  EXPECT_FALSE(document.contains("home"));
}

TEST(Load, EnvironmentMatchesUnderscoresInsideKeys) {
  const json::object document = load(
      {}, {{"AUTHENTICATORS_OAUTH2_INTROSPECTION_CONFIG_INTROSPECTION_URL", "https://issuer.test/introspect"},
           {"SERVE_PROXY_TRUST_FORWARDED_HEADERS", "true"}});
  EXPECT_EQ(at(document, {"authenticators", "oauth2_introspection", "config", "introspection_url"}),
            json::value("https://issuer.test/introspect"));
  EXPECT_EQ(at(document, {"authenticators", "oauth2_introspection", "config", "cache", "max_cost"}),
            json::value(100000000));
  EXPECT_EQ(at(document, {"serve", "proxy", "trust_forwarded_headers"}), json::value(true));
}

TEST(Load, EnvironmentArraysFromListOrJson) {
  const json::object listed =
      load({}, {{"ACCESS_RULES_REPOSITORIES", "file:///a.json, https://rules.test/b.json"}});
  EXPECT_EQ(at(listed, {"access_rules", "repositories"}), (json::array{"file:///a.json", "https://rules.test/b.json"}));

  const json::object from_json = load({}, {{"ERRORS_FALLBACK", R"(["json","redirect"])"}});
  EXPECT_EQ(at(from_json, {"errors", "fallback"}), (json::array{"json", "redirect"}));
}

TEST(Load, EnvironmentObjectsFromJson) {
  const json::object document = load(
      {fixture("base.yaml")}, {{"MUTATORS_HEADER_CONFIG_HEADERS", R"({"X-Env": "yes"})"}});
  EXPECT_EQ(at(document, {"mutators", "header", "config", "headers"}), json::parse(R"({"X-Env": "yes"})"));
}

TEST(Load, EnvironmentValueThatCannotBeConverted) {
  const std::vector<Problem> problems = problems_of({}, {{"SERVE_API_PORT", "high"}, {"SERVE_PROXY_CORS_ENABLED", "maybe"}});
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].path, "serve.api.port");
  EXPECT_EQ(problems[0].message, R"(invalid value "high" in environment variable SERVE_API_PORT: expected an integer)");
  EXPECT_EQ(problems[1].path, "serve.proxy.cors.enabled");
  EXPECT_EQ(problems[1].message,
            R"(invalid value "maybe" in environment variable SERVE_PROXY_CORS_ENABLED: expected true or false)");
}

TEST(Load, SingleRepositoryStringBecomesList) {
  const std::string file = write_temp("single-repo.yaml", "access_rules:\n  repositories: file:///srv/rules.yaml\n");
  const json::object document = load({file}, {});
  EXPECT_EQ(at(document, {"access_rules", "repositories"}), (json::array{"file:///srv/rules.yaml"}));
}

TEST(Load, InvalidPortMessage) {
  const std::string file = write_temp("port.yaml", "serve:\n  proxy:\n    port: abc\n");
  const std::vector<Problem> problems = problems_of({file});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "serve.proxy.port");
  EXPECT_EQ(problems[0].message, R"(invalid value "abc": expected an integer between 1 and 65535)");
}

TEST(Load, PortOutOfRange) {
  const std::string file = write_temp("range.yaml", "serve:\n  api:\n    port: 70000\n");
  const std::vector<Problem> problems = problems_of({file});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].message, "invalid value 70000: expected an integer between 1 and 65535");
}

TEST(Load, UnknownKeyListsAllowedKeys) {
  const std::string file = write_temp("unknown.yaml", "serve:\n  proxy:\n    foo: 1\n");
  const std::vector<Problem> problems = problems_of({file});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "serve.proxy.foo");
  EXPECT_EQ(problems[0].message,
            "unknown key; allowed keys: cors, host, port, timeout, tls, trust_forwarded_headers, trusted_proxies");
}

TEST(Load, UnknownTopLevelKey) {
  const std::string file = write_temp("top.yaml", "servers: {}\n");
  const std::vector<Problem> problems = problems_of({file});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "servers");
  EXPECT_EQ(problems[0].message.rfind("unknown key; allowed keys: access_rules, authenticators,", 0), 0u)
      << problems[0].message;
}

TEST(Load, BadDurationMessage) {
  const std::string file = write_temp("duration.yaml", "serve:\n  proxy:\n    timeout:\n      idle: 1.5s\n");
  const std::vector<Problem> problems = problems_of({file});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "serve.proxy.timeout.idle");
  EXPECT_EQ(problems[0].message,
            R"(invalid value "1.5s": expected a duration such as 5s or 150ms (digits followed by ns, us, ms, s, m or h))");
}

TEST(Load, EnumMessage) {
  const std::string file = write_temp("enum.yaml", "log:\n  level: verbose\naccess_rules:\n  matching_strategy: UNKNOWN\n");
  const std::vector<Problem> problems = problems_of({file});
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].path, "access_rules.matching_strategy");
  EXPECT_EQ(problems[0].message, R"(invalid value "UNKNOWN": expected one of: regexp, glob)");
  EXPECT_EQ(problems[1].path, "log.level");
  EXPECT_EQ(problems[1].message,
            R"(invalid value "verbose": expected one of: panic, fatal, error, warn, info, debug, trace)");
}

TEST(Load, WrongTypeMessage) {
  const std::string file = write_temp("type.yaml", "serve:\n  proxy:\n    trust_forwarded_headers: \"yes\"\n");
  const std::vector<Problem> problems = problems_of({file});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].message, R"(invalid value "yes": expected true or false)");
}

TEST(Load, EnabledHandlerNeedsRequiredConfig) {
  const std::string file = write_temp("header.yaml", "mutators:\n  header:\n    enabled: true\n");
  const std::vector<Problem> problems = problems_of({file});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "mutators.header.config");
  EXPECT_EQ(problems[0].message, "missing required key (required because the handler is enabled)");
}

TEST(Load, EnabledHandlerMissingRequiredKey) {
  const std::string file = write_temp("jwt.yaml", "authenticators:\n  jwt:\n    enabled: true\n");
  const std::vector<Problem> problems = problems_of({file});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "authenticators.jwt.config.jwks_urls");
  EXPECT_EQ(problems[0].message, "missing required key");
}

TEST(Load, DisabledHandlerConfigIsNotChecked) {
  // Oathkeeper validates a handler's config only when the handler is enabled.
  const std::string file = write_temp("disabled.yaml", "authenticators:\n  jwt:\n    enabled: false\n    config: {}\n");
  EXPECT_TRUE(problems_of({file}).empty());
}

TEST(Load, ErrorsJsonHandlerCanBeTurnedOff) {
  const std::string file = write_temp("json-off.yaml", "errors:\n  handlers:\n    json:\n      enabled: false\n");
  const json::object document = load({file}, {});
  EXPECT_EQ(at(document, {"errors", "handlers", "json", "enabled"}), json::value(false));
}

TEST(Load, PreAuthorizationNeedsCredentialsWhenEnabled) {
  const std::string file = write_temp("preauth.yaml",
                                      "authenticators:\n  oauth2_introspection:\n    enabled: true\n    config:\n"
                                      "      introspection_url: https://issuer.test/introspect\n"
                                      "      pre_authorization:\n        enabled: true\n        client_id: gate\n");
  const std::vector<Problem> problems = problems_of({file});
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].path, "authenticators.oauth2_introspection.config.pre_authorization.client_secret");
  EXPECT_EQ(problems[1].path, "authenticators.oauth2_introspection.config.pre_authorization.token_url");
  EXPECT_EQ(problems[1].message, "missing required key (required because pre_authorization is enabled)");
}

TEST(Load, GatehouseExtensionsAreAccepted) {
  const std::string file = write_temp("extensions.yaml",
                                      "serve:\n  proxy:\n    trusted_proxies: [10.0.0.0/8, fd00::/8]\n"
                                      "authenticators:\n  oauth2_introspection:\n    enabled: true\n    config:\n"
                                      "      introspection_url: https://issuer.test/introspect\n"
                                      "      token_from: {query_parameter: access_token}\n"
                                      "      subject_from: client_id\n      extra_from: '@this'\n");
  EXPECT_TRUE(problems_of({file}).empty());
}

TEST(Load, TrustedProxyMustBeCidr) {
  const std::string file = write_temp("cidr.yaml", "serve:\n  proxy:\n    trusted_proxies: [10.0.0.1]\n");
  const std::vector<Problem> problems = problems_of({file});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "serve.proxy.trusted_proxies[0]");
}

TEST(Load, SecretValuesAreRedacted) {
  const std::string file = write_temp("secret.yaml",
                                      "authenticators:\n  oauth2_introspection:\n    enabled: true\n    config:\n"
                                      "      introspection_url: https://issuer.test/introspect\n"
                                      "      pre_authorization:\n        enabled: true\n        client_id: gate\n"
                                      "        client_secret: 12345\n        token_url: https://issuer.test/token\n");
  const std::vector<Problem> problems = problems_of({file});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].message, "invalid value (redacted): expected a string");
  EXPECT_EQ(std::string(ConfigError(problems).what()).find("12345"), std::string::npos);
}

TEST(Load, LongValuesAreTruncated) {
  const std::string file = write_temp("long.yaml", "log:\n  format: " + std::string(200, 'x') + "\n");
  const std::vector<Problem> problems = problems_of({file});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_LT(problems[0].message.size(), 160u);
  EXPECT_NE(problems[0].message.find("..."), std::string::npos);
}

TEST(Load, SeveralProblemsSortedByPath) {
  const std::string file = write_temp("many.yaml",
                                      "serve:\n  proxy:\n    port: 0\n  api:\n    timeout: {read: soon}\n"
                                      "log:\n  format: xml\naccess_rules:\n  repositories: [not a uri]\n");
  const std::vector<Problem> problems = problems_of({file});
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_EQ(problems[0].path, "access_rules.repositories[0]");
  EXPECT_EQ(problems[0].message, R"(invalid value "not a uri": expected an absolute URI such as https://example.com/path)");
  EXPECT_EQ(problems[1].path, "log.format");
  EXPECT_EQ(problems[2].path, "serve.api.timeout.read");
  EXPECT_EQ(problems[3].path, "serve.proxy.port");
}

TEST(Load, VersionMustBeSemantic) {
  const std::string good = write_temp("version-good.yaml", "version: v0.40.1\nprofiling: cpu\n");
  EXPECT_TRUE(problems_of({good}).empty());

  const std::string bad = write_temp("version-bad.yaml", "version: 0.40\n");
  const std::vector<Problem> problems = problems_of({bad});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].message, R"(invalid value 0.4: expected a semantic version such as v0.40.0)");
}

TEST(Load, RedirectQueryParamPattern) {
  const std::string file = write_temp("redirect.yaml",
                                      "errors:\n  handlers:\n    redirect:\n      enabled: true\n      config:\n"
                                      "        to: https://login.test/\n        return_to_query_param: \"a b\"\n");
  const std::vector<Problem> problems = problems_of({file});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "errors.handlers.redirect.config.return_to_query_param");
}

TEST(Load, WhatListsOneProblemPerLine) {
  const ConfigError error({{"a.b", "first"}, {"c", "second"}});
  EXPECT_STREQ(error.what(), "a.b: first\nc: second");
}

TEST(Load, UnreadableFileIsAProblem) {
  const std::vector<Problem> problems = problems_of({"/nonexistent/gatehouse.yaml"});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "/nonexistent/gatehouse.yaml");
  EXPECT_EQ(problems[0].message.rfind("cannot read file: ", 0), 0u) << problems[0].message;
}

TEST(Load, TopLevelListIsAProblem) {
  const std::string file = write_temp("list.yaml", "- a\n- b\n");
  const std::vector<Problem> problems = problems_of({file});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, file);
}

}  // namespace
}  // namespace gh::config
