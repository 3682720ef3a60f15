// Key sets from `jwks_urls`: http://, https://, file:// and base64:// (an inline JWKS in
// base64 or base64url). One KeySource serves every worker thread for one list of URLs.
//
// Each URL's set is kept for the TTL. When a set is missing or expired, the request that
// notices starts one fetch on its own executor (single flight); every request that needs
// the set waits for that fetch, but never longer than `max_wait`, and then goes on with
// what is there. A fetch that fails keeps the previous set in use (stale) and is not
// retried for kFailedFetchRetryInterval. A token whose `kid` is not in any set may force a
// refresh before the TTL, at most once per kUnknownKidRefreshInterval per URL, so a flood
// of made-up kids cannot become a flood of fetches.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/duration.h"
#include "common/expected.h"
#include "jose/jwk.h"

namespace gh::jose {

// Shortest time between two refreshes of one URL forced by unknown kids. Five seconds
// picks up a rotated key quickly while capping such fetches at 12 a minute per URL.
inline constexpr std::chrono::seconds kUnknownKidRefreshInterval{5};

// Time after a failed fetch during which the URL is not fetched again; requests use the
// stale set, or fail at once when there is none.
inline constexpr std::chrono::seconds kFailedFetchRetryInterval{1};

// Deadline of one http(s) fetch. It runs on even after the waiting requests gave up, so a
// slow endpoint still fills the set for later requests.
inline constexpr std::chrono::seconds kFetchTimeout{10};

// Minimum time between two warnings about failed fetches of one URL.
inline constexpr std::chrono::seconds kFailureLogInterval{30};

// Fetches the document at an http:// or https:// URL within `timeout`; returns its body
// or the reason it failed. Non-2xx statuses are failures.
using DocumentFetcher = std::function<boost::asio::awaitable<Expected<std::string, std::string>>(
    const std::string& url, Duration timeout)>;

using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

struct KeySourceOptions {
  std::vector<std::string> urls;
  Duration ttl = std::chrono::seconds(30);
  Duration max_wait = std::chrono::seconds(1);
  DocumentFetcher fetcher;  // required when any URL is http:// or https://
  SteadyClock clock;        // steady_clock::now when empty
};

struct KeySourceCounters {
  std::uint64_t fetches = 0;          // fetches started
  std::uint64_t fetch_failures = 0;   // fetches that failed or returned an invalid JWKS
  std::uint64_t stale_uses = 0;       // key sets returned after their TTL
  std::uint64_t unknown_kid_refreshes = 0;
};

// The sets of every URL that has one, in URL order, and the reason for each URL that has
// none.
struct KeySets {
  std::vector<std::shared_ptr<const JwkSet>> sets;
  std::vector<std::string> missing;  // "URL: reason"
};

class KeySource : public std::enable_shared_from_this<KeySource> {
 public:
  // Checks the URLs' schemes and decodes base64:// sets. The error names the bad URL.
  static Expected<std::shared_ptr<KeySource>, std::string> create(KeySourceOptions options);

  ~KeySource();
  KeySource(const KeySource&) = delete;
  KeySource& operator=(const KeySource&) = delete;

  // Returns the current key sets, fetching (and waiting up to max_wait for) those that are
  // missing or expired. With `unknown_kid`, also refreshes URLs whose last fetch started at
  // least kUnknownKidRefreshInterval ago. The caller's executor must be single-threaded (an
  // io_context run by one thread, or a strand), because waits are woken by posting to it.
  boost::asio::awaitable<KeySets> key_sets(bool unknown_kid = false);

  KeySourceCounters counters() const;
  Duration ttl() const { return ttl_; }

 private:
  struct Flight;
  struct UrlState;

  explicit KeySource(KeySourceOptions options);

  boost::asio::awaitable<void> run_fetch(std::size_t index, std::shared_ptr<Flight> flight);
  boost::asio::awaitable<Expected<std::string, std::string>> load_document(const UrlState& state);
  void finish_fetch(std::size_t index, const std::shared_ptr<Flight>& flight,
                    Expected<std::shared_ptr<const JwkSet>, std::string> result);
  boost::asio::awaitable<void> wait_for(const std::shared_ptr<Flight>& flight,
                                        std::chrono::steady_clock::time_point deadline);

  Duration ttl_;
  Duration max_wait_;
  DocumentFetcher fetcher_;
  SteadyClock clock_;

  mutable std::mutex mutex_;  // guards every UrlState and Flight
  std::vector<UrlState> states_;

  std::atomic<std::uint64_t> fetches_{0};
  std::atomic<std::uint64_t> fetch_failures_{0};
  std::atomic<std::uint64_t> stale_uses_{0};
  std::atomic<std::uint64_t> unknown_kid_refreshes_{0};
};

}  // namespace gh::jose
