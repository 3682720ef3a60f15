#include "pipeline/authn/introspection.h"

#include <gtest/gtest.h>

#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/fields.hpp>

#include "common/heap_size.h"
#include "pipeline/authn/session_store.h"
#include "pipeline/remote_call.h"

namespace gh::pipeline::authn {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using std::chrono::system_clock;

const system_clock::time_point kNow = system_clock::time_point(std::chrono::seconds(1'700'000'000));

IntrospectionResult parsed(std::string_view body) {
  auto result = parse_introspection(body);
  EXPECT_TRUE(result.has_value()) << body << ": " << (result ? "" : result.error().reason);
  return result ? *result : IntrospectionResult{};
}

int status_of_parse(std::string_view body) {
  auto result = parse_introspection(body);
  return result ? 0 : result.error().status;
}

TEST(IntrospectionParse, MalformedBodiesAreUnauthorized) {
  EXPECT_EQ(status_of_parse("not json"), 401);
  EXPECT_EQ(status_of_parse("[]"), 401);
  EXPECT_EQ(status_of_parse("{}"), 401);
  EXPECT_EQ(status_of_parse(R"({"active":"true"})"), 401);
  EXPECT_EQ(status_of_parse(R"({"active":true,"exp":"soon"})"), 401);
  EXPECT_EQ(status_of_parse(R"({"active":true,"aud":[1]})"), 401);
  EXPECT_EQ(status_of_parse(R"({"active":true,"sub":5})"), 401);
  EXPECT_EQ(status_of_parse(R"({"active":true,"ext":[]})"), 401);
}

TEST(IntrospectionParse, ReadsStringAudienceAsList) {
  IntrospectionResult result = parsed(R"({"active":true,"aud":"api"})");
  ASSERT_EQ(result.aud.size(), 1u);
  EXPECT_EQ(result.aud[0], "api");
}

TEST(IntrospectionCheck, InactiveIsUnauthorized) {
  auto checked = check_token(parsed(R"({"active":false})"), kNow);
  ASSERT_FALSE(checked.has_value());
  EXPECT_EQ(checked.error().status, 401);
  EXPECT_EQ(checked.error().reason, "Access token is not active");
}

TEST(IntrospectionCheck, ExpiredIsUnauthorized) {
  auto checked = check_token(parsed(R"({"active":true,"exp":1699999999})"), kNow);
  ASSERT_FALSE(checked.has_value());
  EXPECT_EQ(checked.error().reason, "Access token expired");
  EXPECT_TRUE(check_token(parsed(R"({"active":true,"exp":1700000001})"), kNow).has_value());
  EXPECT_TRUE(check_token(parsed(R"({"active":true,"exp":0})"), kNow).has_value());
}

TEST(IntrospectionCheck, OtherTokenUseIsForbidden) {
  auto checked = check_token(parsed(R"({"active":true,"token_use":"refresh_token"})"), kNow);
  ASSERT_FALSE(checked.has_value());
  EXPECT_EQ(checked.error().status, 403);
  EXPECT_TRUE(check_token(parsed(R"({"active":true,"token_use":"access_token"})"), kNow).has_value());
}

TEST(IntrospectionCheck, AudienceMustContainEveryTarget) {
  RuleRequirements requirements;
  requirements.target_audience = {"a", "b"};
  EXPECT_TRUE(check_requirements(parsed(R"({"active":true,"aud":["b","a","c"]})"), requirements).has_value());
  auto checked = check_requirements(parsed(R"({"active":true,"aud":["a"]})"), requirements);
  ASSERT_FALSE(checked.has_value());
  EXPECT_EQ(checked.error().status, 403);
}

TEST(IntrospectionCheck, IssuerMustBeTrusted) {
  RuleRequirements requirements;
  requirements.trusted_issuers = {"foo", "bar"};
  EXPECT_TRUE(check_requirements(parsed(R"({"active":true,"iss":"foo"})"), requirements).has_value());
  EXPECT_EQ(check_requirements(parsed(R"({"active":true,"iss":"not-foo"})"), requirements).error().status, 403);
}

TEST(IntrospectionCheck, ScopeStrategiesApply) {
  RuleRequirements requirements;
  requirements.scope_strategy = ScopeStrategy::hierarchic;
  requirements.required_scope = {"scope-a", "scope-b.foo", "scope-c.bar"};
  EXPECT_TRUE(check_requirements(parsed(R"({"active":true,"scope":"scope-a scope-b scope-c.bar"})"), requirements)
                  .has_value());
  auto checked = check_requirements(parsed(R"({"active":true,"scope":"scope-a scope-b"})"), requirements);
  ASSERT_FALSE(checked.has_value());
  EXPECT_EQ(checked.error().reason, "Scope scope-c.bar was not granted");
}

TEST(IntrospectionCheck, StrategyNoneLeavesScopesToIssuer) {
  RuleRequirements requirements;
  requirements.required_scope = {"scope-a"};
  EXPECT_TRUE(check_requirements(parsed(R"({"active":true,"scope":"scope-z"})"), requirements).has_value());
}

TEST(IntrospectionExtra, DefaultExtraMatchesOathkeeper) {
  auto extra = default_extra(parsed(
      R"({"active":true,"ext":{"tier":"gold"},"username":"ann","client_id":"app","scope":"a b","aud":"api"})"));
  EXPECT_EQ(boost::json::serialize(extra),
            R"({"tier":"gold","username":"ann","client_id":"app","scope":"a b","aud":["api"]})");
}

TEST(IntrospectionExtra, DefaultExtraOmitsEmptyAudience) {
  auto extra = default_extra(parsed(R"({"active":true})"));
  EXPECT_EQ(boost::json::serialize(extra), R"({"username":"","client_id":"","scope":""})");
}

TEST(SessionIdentity, ExtractsSubjectAndExtra) {
  auto subject_from = *text::GjsonPath::compile("identity.id");
  auto extra_from = *text::GjsonPath::compile("@this");
  Session session;
  auto document = boost::json::parse(R"({"identity":{"id":"123"},"session":{"foo":"bar"}})");
  ASSERT_TRUE(extract_identity(document, subject_from, extra_from, session).has_value());
  EXPECT_EQ(session.subject, "123");
  EXPECT_EQ(session.extra_value(), document);
}

TEST(SessionIdentity, MissingPathsGiveEmptyIdentity) {
  Session session;
  session.subject = "stale";
  auto document = boost::json::parse(R"({"other":1})");
  ASSERT_TRUE(extract_identity(document, *text::GjsonPath::compile("sub"), *text::GjsonPath::compile("extra"), session)
                  .has_value());
  EXPECT_EQ(session.subject, "");
  EXPECT_TRUE(session.extra_value().is_null());
}

TEST(SessionIdentity, WrongTypesAreForbidden) {
  Session session;
  auto document = boost::json::parse(R"({"sub":5,"extra":[1]})");
  auto subject = extract_identity(document, *text::GjsonPath::compile("sub"), *text::GjsonPath::compile("none"), session);
  ASSERT_FALSE(subject.has_value());
  EXPECT_EQ(subject.error().status, 403);
  auto extra = extract_identity(document, *text::GjsonPath::compile("none"), *text::GjsonPath::compile("extra"), session);
  ASSERT_FALSE(extra.has_value());
  EXPECT_EQ(extra.error().status, 403);
}

TEST(RemoteFailure, TransportErrorsAreGatewayErrors) {
  EXPECT_EQ(transport_failure("x", {http::ClientErrorKind::unreachable, "refused"}).status, 502);
  EXPECT_EQ(transport_failure("x", {http::ClientErrorKind::timed_out, "slow"}).status, 504);
}

TEST(RemoteFailure, StatusesMapToGatewayErrors) {
  EXPECT_EQ(status_failure("x", 500).status, 502);
  EXPECT_EQ(status_failure("x", 503).status, 503);
  EXPECT_EQ(status_failure("x", 504).status, 504);
  EXPECT_EQ(status_failure("x", 400).status, 502);
}

TEST(RemoteFailure, RateLimitCopiesHeaders) {
  http::ClientResponse response;
  response.status = 429;
  response.headers = {{"retry-after", "120"}, {"X-RateLimit-Limit", "1000"}, {"X-Other", "no"}};
  Error error = rate_limited("x", response);
  EXPECT_EQ(error.status, 429);
  http::HeaderList expected = {{"Retry-After", "120"}, {"X-Ratelimit-Limit", "1000"}};
  EXPECT_EQ(error.headers, expected);
}

TEST(FormEncode, EscapesReservedBytes) {
  EXPECT_EQ(form_encode("a b+c/d=é~"), "a+b%2Bc%2Fd%3D%C3%A9~");
}

TEST(CachedIntrospection, KeepsParsedResultAndDefaultExtra) {
  const std::string body = R"({"active":true,"sub":"ann","scope":"read","aud":"api","ext":{"team":"blue"}})";
  auto entry = make_cached_introspection(body);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ((*entry)->result.sub, "ann");
  EXPECT_EQ((*entry)->default_extra, json::value(default_extra(parsed(body))));
}

TEST(CachedIntrospection, RejectsMalformedBody) {
  auto entry = make_cached_introspection(R"({"active":"yes"})");
  ASSERT_FALSE(entry.has_value());
  EXPECT_EQ(entry.error().status, 401);
}

TEST(CachedIntrospection, HeapBytesCoverEveryCopy) {
  const std::string small_body = R"({"active":true,"sub":"ann"})";
  const std::string long_value(1000, 'x');
  const std::string large_body =
      R"({"active":true,"sub":"ann","username":")" + long_value + R"(","ext":{"note":")" + long_value + R"("}})";

  auto small = make_cached_introspection(small_body);
  auto large = make_cached_introspection(large_body);
  ASSERT_TRUE(small.has_value());
  ASSERT_TRUE(large.has_value());

  // The entry's own block and the parsed document.
  const JsonHeapMeter meter;
  const json::value document = json::parse(small_body, meter.storage());
  EXPECT_GE((*small)->heap_bytes, meter.bytes() + sizeof(CachedIntrospection));

  // The document, the result's fields and the default extra data each keep a copy of
  // username and of ext.note.
  EXPECT_GE((*large)->heap_bytes - (*small)->heap_bytes, 6 * long_value.size());
}

// An endpoint that returns `body` for every token and counts its calls.
struct FakeEndpoint {
  std::string body;
  int calls = 0;
};

class IntrospectionCacheTest : public ::testing::Test {
 protected:
  std::shared_ptr<const Authenticator> make(json::object extra_config = {}) {
    json::object config{{"introspection_url", "http://127.0.0.1:1/introspect"},
                        {"cache", json::object{{"enabled", true}, {"max_cost", 1'000'000}}}};
    for (auto& [key, value] : extra_config) config[key] = value;

    IntrospectionDependencies dependencies;
    dependencies.endpoint = [this](std::string) -> asio::awaitable<Expected<std::string, Error>> {
      ++endpoint_.calls;
      co_return endpoint_.body;
    };
    dependencies.now = [this] { return wall_; };
    dependencies.steady_clock = [this] { return steady_; };
    auto built = make_introspection_with(config, std::move(dependencies));
    EXPECT_TRUE(built.has_value()) << (built ? "" : built.error());
    return built ? *built : nullptr;
  }

  AuthnResult run(const Authenticator& authenticator, const std::string& token) {
    boost::beast::http::fields headers;
    headers.set(boost::beast::http::field::authorization, "Bearer " + token);
    Request request;
    request.method = "GET";
    request.scheme = "http";
    request.host = "api.test";
    request.path = "/";
    request.headers = &headers;
    session_ = Session{};

    asio::io_context io;
    std::optional<AuthnResult> result;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { result = co_await authenticator.authenticate(request, session_); },
        asio::detached);
    io.run();
    return *result;
  }

  // Returns an active response that expires `seconds` after the test's wall clock.
  std::string active_body(long long seconds) const {
    const long long exp = std::chrono::duration_cast<std::chrono::seconds>(wall_.time_since_epoch()).count() + seconds;
    return json::serialize(json::object{{"active", true}, {"sub", "ann"}, {"scope", "read"}, {"exp", exp}});
  }

  FakeEndpoint endpoint_;
  system_clock::time_point wall_ = kNow;
  std::chrono::steady_clock::time_point steady_{std::chrono::hours(100)};
  Session session_;
};

TEST_F(IntrospectionCacheTest, HitSharesParsedResult) {
  auto authenticator = make();
  endpoint_.body = active_body(600);
  ASSERT_TRUE(run(*authenticator, "t-1").is_authenticated());
  const std::shared_ptr<const json::value> first_extra = session_.extra;

  AuthnResult second = run(*authenticator, "t-1");
  ASSERT_TRUE(second.is_authenticated()) << (second.is_failed() ? second.error().reason : "");
  EXPECT_EQ(endpoint_.calls, 1);
  EXPECT_EQ(introspection_cache_counters(*authenticator)->hits, 1u);
  EXPECT_EQ(session_.subject, "ann");
  EXPECT_EQ(session_.extra_value(), json::value(default_extra(parsed(endpoint_.body))));
  EXPECT_EQ(session_.extra.get(), first_extra.get());
}

TEST_F(IntrospectionCacheTest, HitRerunsRuleChecks) {
  auto authenticator = make({{"scope_strategy", "exact"}, {"required_scope", json::array{"write"}}});
  endpoint_.body = active_body(600);
  EXPECT_EQ(run(*authenticator, "t-1").error().status, 403);
  EXPECT_EQ(run(*authenticator, "t-1").error().status, 403);
  EXPECT_EQ(endpoint_.calls, 1);
}

TEST_F(IntrospectionCacheTest, ExpiredCachedResultRejected) {
  auto authenticator = make();
  endpoint_.body = active_body(5);
  ASSERT_TRUE(run(*authenticator, "t-1").is_authenticated());

  wall_ += 6s;  // the cache's steady clock has not moved, so the entry is still there
  AuthnResult result = run(*authenticator, "t-1");
  ASSERT_TRUE(result.is_failed());
  EXPECT_EQ(result.error().status, 401);
  EXPECT_EQ(result.error().reason, "Access token expired");
  EXPECT_EQ(endpoint_.calls, 1);
  EXPECT_EQ(introspection_cache_counters(*authenticator)->hits, 1u);
}

TEST_F(IntrospectionCacheTest, EntryEndsAtExp) {
  auto authenticator = make();
  endpoint_.body = active_body(5);
  ASSERT_TRUE(run(*authenticator, "t-1").is_authenticated());

  wall_ += 6s;
  steady_ += 6s;
  endpoint_.body = active_body(5);
  EXPECT_TRUE(run(*authenticator, "t-1").is_authenticated());
  EXPECT_EQ(endpoint_.calls, 2);
  EXPECT_EQ(introspection_cache_counters(*authenticator)->expirations, 1u);
}

TEST_F(IntrospectionCacheTest, InactiveResponseNotCached) {
  auto authenticator = make();
  endpoint_.body = R"({"active":false})";
  EXPECT_EQ(run(*authenticator, "t-1").error().status, 401);
  EXPECT_EQ(run(*authenticator, "t-1").error().status, 401);
  EXPECT_EQ(endpoint_.calls, 2);
  EXPECT_EQ(introspection_cache_counters(*authenticator)->entries, 0u);
}

}  // namespace
}  // namespace gh::pipeline::authn
