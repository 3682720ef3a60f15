// Pieces shared by the authenticators that call a remote service (introspection endpoints,
// session stores, token endpoints): retries within a deadline, and the mapping of a failed
// call to the error the client sees.
//
// A remote failure never becomes 401 or 403. An outage of the service that checks
// credentials is a dependency failure (502, 503 or 504), so clients and monitoring can tell
// it apart from a bad credential.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include "common/duration.h"
#include "common/expected.h"
#include "http/client.h"
#include "pipeline/error.h"

namespace gh::pipeline {

// Retry settings of one remote call, from a handler's `retry` block. Unlike Oathkeeper,
// which swaps the two keys and multiplies one by a million, `give_up_after` is the overall
// deadline of the call (every attempt and every wait) and `max_delay` caps the wait between
// two attempts.
struct RetryPolicy {
  Duration give_up_after = std::chrono::seconds(1);
  Duration max_delay = std::chrono::milliseconds(100);
};

// Reads a `retry` block of `config`; absent keys keep the schema defaults above.
RetryPolicy retry_policy_at(const boost::json::object& config);

// Sets header `name` in `headers`, replacing every value it had (names compared
// case-insensitively).
void replace_header(http::HeaderList& headers, std::string_view name, std::string value);

// The most attempts of one call, so that a `max_delay` of zero cannot spin until the deadline.
inline constexpr int kMaxAttempts = 5;

// The first wait between attempts; it doubles after each attempt up to `max_delay`.
inline constexpr Duration kFirstRetryDelay = std::chrono::milliseconds(25);

// Sends `request`, and sends it again after a transport failure or a 502, 503 or 504, until
// an attempt returns anything else, `kMaxAttempts` attempts were made, or the next attempt
// would start after the deadline. Each attempt's timeout is the time left. Returns the last
// attempt's outcome.
boost::asio::awaitable<Expected<http::ClientResponse, http::ClientError>> fetch_with_retry(
    http::ClientRequest request, RetryPolicy policy);

// The error for a call to `service` that got no response: 504 when it timed out, else 502.
Error transport_failure(std::string_view service, const http::ClientError& error);

// The error for an unexpected status from `service`: 503 and 504 pass through, every other
// status becomes 502.
Error status_failure(std::string_view service, int status);

// 429 with the Retry-After and X-Ratelimit-* headers of `response` copied for the client.
Error rate_limited(std::string_view service, const http::ClientResponse& response);

// Encodes `text` for an application/x-www-form-urlencoded body: unreserved characters stay,
// space becomes '+', every other byte becomes %XX.
std::string form_encode(std::string_view text);

// The SHA-256 digest of `data`, 32 raw bytes. Cache keys hold digests of credentials, never
// the credentials.
std::string sha256(std::string_view data);

}  // namespace gh::pipeline
