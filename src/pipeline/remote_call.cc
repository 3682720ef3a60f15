#include "pipeline/remote_call.h"

#include <algorithm>
#include <array>
#include <cctype>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "jose/digest.h"
#include "pipeline/config_values.h"

namespace gh::pipeline {
namespace {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

bool worth_retrying(const Expected<http::ClientResponse, http::ClientError>& outcome) {
  if (!outcome) {
    // A bad URL or an oversized response fails the same way every time.
    return outcome.error().kind == http::ClientErrorKind::unreachable ||
           outcome.error().kind == http::ClientErrorKind::timed_out;
  }
  const int status = outcome->status;
  return status == 502 || status == 503 || status == 504;
}

std::string describe(const Expected<http::ClientResponse, http::ClientError>& outcome) {
  if (!outcome) return outcome.error().message;
  return fmt::format("status {}", outcome->status);
}

// Copies of these response headers reach the client with a 429, as Oathkeeper does.
constexpr std::array<std::string_view, 5> kRateLimitHeaders = {
    "Retry-After", "X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset", "X-Ratelimit-Type"};

}  // namespace

asio::awaitable<Expected<http::ClientResponse, http::ClientError>> fetch_with_retry(
    http::ClientRequest request, RetryPolicy policy) {
  const auto deadline = SteadyClock::now() + policy.give_up_after;
  Duration delay = std::min(kFirstRetryDelay, policy.max_delay);

  for (int attempt = 1;; ++attempt) {
    http::ClientRequest this_attempt = request;
    this_attempt.timeout = std::max<Duration>(deadline - SteadyClock::now(), Duration(1));
    auto outcome = co_await http::fetch(std::move(this_attempt));

    if (!worth_retrying(outcome) || attempt >= kMaxAttempts) co_return outcome;
    if (SteadyClock::now() + delay >= deadline) co_return outcome;

    spdlog::debug("remote call to {} failed ({}); retrying in {}", request.url, describe(outcome),
                  format_duration(delay));
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    boost::system::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    delay = std::min(delay * 2, policy.max_delay);
  }
}

RetryPolicy retry_policy_at(const boost::json::object& config) {
  RetryPolicy policy;
  const boost::json::object* retry = object_at(config, "retry");
  if (retry == nullptr) return policy;
  policy.give_up_after = duration_at(*retry, "give_up_after").value_or(policy.give_up_after);
  policy.max_delay = duration_at(*retry, "max_delay").value_or(policy.max_delay);
  return policy;
}

void replace_header(http::HeaderList& headers, std::string_view name, std::string value) {
  std::erase_if(headers, [&](const auto& header) { return http::iequals(header.first, name); });
  headers.emplace_back(http::canonical_header_name(name), std::move(value));
}

Error transport_failure(std::string_view service, const http::ClientError& error) {
  if (error.kind == http::ClientErrorKind::timed_out) {
    return Error{504, fmt::format("The {} timed out", service), error.message, {}, {}};
  }
  return Error{502, fmt::format("The {} could not be reached", service), error.message, {}, {}};
}

Error status_failure(std::string_view service, int status) {
  std::string reason = fmt::format("the {} returned status {}", service, status);
  if (status == 503) return Error{503, fmt::format("The {} is not available", service), std::move(reason), {}, {}};
  if (status == 504) return Error{504, fmt::format("The {} timed out", service), std::move(reason), {}, {}};
  return Error{502, fmt::format("The {} returned an unexpected response", service), std::move(reason), {}, {}};
}

Error rate_limited(std::string_view service, const http::ClientResponse& response) {
  Error error{429, "Too many requests", fmt::format("the {} returned status 429", service), {}, {}};
  for (std::string_view name : kRateLimitHeaders) {
    for (const auto& [header, value] : response.headers) {
      if (http::iequals(header, name)) error.headers.emplace_back(std::string(name), value);
    }
  }
  return error;
}

std::string form_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string sha256(std::string_view data) { return jose::sha256(data); }

}  // namespace gh::pipeline
