#include "jose/key_source.h"

#include <fstream>
#include <map>
#include <sstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "jose/base64url.h"

namespace gh::jose {

namespace asio = boost::asio;
using TimePoint = std::chrono::steady_clock::time_point;

enum class UrlScheme { http, file, inline_base64 };

// One fetch in progress, and the wake-up calls of the requests waiting for it.
struct KeySource::Flight {
  bool done = false;
  std::uint64_t next_waiter = 0;
  std::map<std::uint64_t, std::function<void()>> wakeups;
};

struct KeySource::UrlState {
  std::string url;
  std::string display_url;  // for logs: no user info, query or inline key material
  UrlScheme scheme = UrlScheme::http;
  std::string path;          // file://
  std::string inline_jwks;   // base64://, decoded

  std::shared_ptr<const JwkSet> keys;
  TimePoint expires_at{};       // keys are fresh until then
  TimePoint next_attempt{};     // no fetch before then, after a failure
  TimePoint last_started{};     // start of the last fetch, for unknown-kid refreshes
  bool ever_started = false;
  std::shared_ptr<Flight> flight;  // non-null while a fetch runs
  std::string last_error;
  TimePoint last_failure_log{};
  std::uint64_t unlogged_failures = 0;
};

namespace {

// Standard base64 (padded or not) or base64url, as inline key sets are written both ways.
std::optional<std::string> decode_any_base64(std::string_view text) {
  if (text.find_first_of("-_") != std::string_view::npos) {
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);
    return base64url_decode(text);
  }
  return base64_decode(text);
}

std::string read_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "the file cannot be opened";
    return {};
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace

Expected<std::shared_ptr<KeySource>, std::string> KeySource::create(KeySourceOptions options) {
  if (options.urls.empty()) return Unexpected{std::string("jwks_urls is empty; list at least one key set URL")};

  std::vector<UrlState> states;
  for (const std::string& url : options.urls) {
    UrlState state;
    state.url = url;
    if (url.starts_with("base64://")) {
      auto decoded = decode_any_base64(std::string_view(url).substr(9));
      if (!decoded) return Unexpected{std::string("a base64:// key set URL does not contain valid base64")};
      state.scheme = UrlScheme::inline_base64;
      state.inline_jwks = std::move(*decoded);
      state.display_url = "base64://(inline key set)";
      states.push_back(std::move(state));
      continue;
    }

    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed) return Unexpected{fmt::format("key set URL \"{}\" is not an absolute URL", url)};
    std::string scheme(parsed->scheme());
    if (scheme == "file") {
      state.scheme = UrlScheme::file;
      state.path = parsed->path();
      state.display_url = url;
    } else if (scheme == "http" || scheme == "https") {
      if (!options.fetcher) return Unexpected{fmt::format("no HTTP fetcher is set up for key set URL \"{}\"", url)};
      state.scheme = UrlScheme::http;
      state.display_url = fmt::format("{}://{}{}", scheme, std::string(parsed->encoded_host_and_port()),
                                      std::string(parsed->encoded_path()));
    } else {
      return Unexpected{fmt::format("key set URL \"{}\" has scheme \"{}\"; expected http, https, file or base64",
                                    url, scheme)};
    }
    states.push_back(std::move(state));
  }

  std::shared_ptr<KeySource> source(new KeySource(std::move(options)));
  source->states_ = std::move(states);
  return source;
}

KeySource::KeySource(KeySourceOptions options)
    : ttl_(options.ttl),
      max_wait_(options.max_wait),
      fetcher_(std::move(options.fetcher)),
      clock_(options.clock ? std::move(options.clock) : SteadyClock([] { return std::chrono::steady_clock::now(); })) {}

KeySource::~KeySource() = default;

asio::awaitable<KeySets> KeySource::key_sets(bool unknown_kid) {
  const TimePoint now = clock_();
  const TimePoint deadline = std::chrono::steady_clock::now() +
                             std::chrono::duration_cast<std::chrono::steady_clock::duration>(max_wait_);
  auto executor = co_await asio::this_coro::executor;

  std::vector<std::shared_ptr<Flight>> waits;
  std::vector<std::pair<std::size_t, std::shared_ptr<Flight>>> starts;
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < states_.size(); ++i) {
      UrlState& state = states_[i];
      const bool outdated = !state.keys || now >= state.expires_at;
      const bool refresh = unknown_kid && (!state.ever_started || now - state.last_started >= kUnknownKidRefreshInterval);
      if (!state.flight && now >= state.next_attempt && (outdated || refresh)) {
        if (!outdated) unknown_kid_refreshes_.fetch_add(1, std::memory_order_relaxed);
        state.flight = std::make_shared<Flight>();
        state.last_started = now;
        state.ever_started = true;
        fetches_.fetch_add(1, std::memory_order_relaxed);
        starts.emplace_back(i, state.flight);
      }
      if (state.flight && (outdated || unknown_kid)) waits.push_back(state.flight);
    }
  }

  // Started outside the lock, because co_spawn may run the fetch inline up to its first
  // suspension, and a file or inline set finishes (and locks) without suspending.
  for (auto& [index, flight] : starts) asio::co_spawn(executor, run_fetch(index, flight), asio::detached);

  for (const auto& flight : waits) co_await wait_for(flight, deadline);

  KeySets result;
  const TimePoint after = clock_();
  std::lock_guard lock(mutex_);
  for (const UrlState& state : states_) {
    if (!state.keys) {
      std::string reason = state.last_error.empty() ? std::string("no key set fetched yet") : state.last_error;
      result.missing.push_back(fmt::format("{}: {}", state.display_url, reason));
      continue;
    }
    if (after >= state.expires_at) stale_uses_.fetch_add(1, std::memory_order_relaxed);
    result.sets.push_back(state.keys);
  }
  co_return result;
}

asio::awaitable<void> KeySource::wait_for(const std::shared_ptr<Flight>& flight, TimePoint deadline) {
  auto executor = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(executor, deadline);
  std::uint64_t waiter = 0;
  {
    std::lock_guard lock(mutex_);
    if (flight->done) co_return;
    waiter = flight->next_waiter++;
    flight->wakeups[waiter] = [executor, timer] { asio::post(executor, [timer] { timer->cancel(); }); };
  }

  // Removes the wake-up call when this coroutine ends, also when its io_context is
  // destroyed with the coroutine suspended, so a finishing fetch never posts to it.
  struct Unregister {
    KeySource* source;
    const std::shared_ptr<Flight>& flight;
    std::uint64_t waiter;
    ~Unregister() {
      std::lock_guard lock(source->mutex_);
      flight->wakeups.erase(waiter);
    }
  } unregister{this, flight, waiter};

  boost::system::error_code ec;
  co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<Expected<std::string, std::string>> KeySource::load_document(const UrlState& state) {
  switch (state.scheme) {
    case UrlScheme::inline_base64:
      co_return state.inline_jwks;
    case UrlScheme::file: {
      std::string error;
      std::string content = read_file(state.path, error);
      if (!error.empty()) co_return Unexpected{error};
      co_return content;
    }
    case UrlScheme::http:
      break;
  }
  co_return co_await fetcher_(state.url, kFetchTimeout);
}

asio::awaitable<void> KeySource::run_fetch(std::size_t index, std::shared_ptr<Flight> flight) {
  auto self = shared_from_this();

  // Ends the flight when this coroutine is destroyed before it finishes (its io_context
  // shut down), so the URL can be fetched again by another worker.
  struct Abandon {
    KeySource* source;
    std::size_t index;
    const std::shared_ptr<Flight>& flight;
    bool finished = false;
    ~Abandon() {
      if (!finished) {
        source->finish_fetch(index, flight, Unexpected{std::string("the fetch was cancelled")});
      }
    }
  } abandon{this, index, flight};

  auto document = co_await load_document(states_[index]);
  Expected<std::shared_ptr<const JwkSet>, std::string> result = Unexpected{std::string()};
  if (!document) {
    result = Unexpected{std::move(document).error()};
  } else if (auto parsed = parse_jwks(*document); !parsed) {
    result = Unexpected{"the document is not a valid JWKS: " + parsed.error()};
  } else {
    result = std::make_shared<const JwkSet>(std::move(*parsed));
  }
  abandon.finished = true;
  finish_fetch(index, flight, std::move(result));
}

void KeySource::finish_fetch(std::size_t index, const std::shared_ptr<Flight>& flight,
                             Expected<std::shared_ptr<const JwkSet>, std::string> result) {
  std::map<std::uint64_t, std::function<void()>> wakeups;
  const TimePoint now = clock_();
  {
    std::lock_guard lock(mutex_);
    UrlState& state = states_[index];
    if (result) {
      state.keys = std::move(*result);
      state.expires_at = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(ttl_);
      state.last_error.clear();
      for (const SkippedKey& skipped : state.keys->skipped()) {
        spdlog::warn("Key {} (kid \"{}\") of key set {} is ignored: {}", skipped.index, skipped.kid,
                     state.display_url, skipped.reason);
      }
    } else {
      fetch_failures_.fetch_add(1, std::memory_order_relaxed);
      state.last_error = std::move(result).error();
      state.next_attempt = now + kFailedFetchRetryInterval;
      if (now - state.last_failure_log >= kFailureLogInterval || state.last_failure_log == TimePoint{}) {
        spdlog::warn("Fetching key set {} failed: {}; {} ({} similar failures not logged)", state.display_url,
                     state.last_error, state.keys ? "the previous keys stay in use" : "no keys are available",
                     state.unlogged_failures);
        state.last_failure_log = now;
        state.unlogged_failures = 0;
      } else {
        ++state.unlogged_failures;
      }
    }
    flight->done = true;
    wakeups = std::move(flight->wakeups);
    flight->wakeups.clear();
    if (state.flight == flight) state.flight = nullptr;
  }
  for (auto& [waiter, wake] : wakeups) wake();
}

KeySourceCounters KeySource::counters() const {
  KeySourceCounters out;
  out.fetches = fetches_.load(std::memory_order_relaxed);
  out.fetch_failures = fetch_failures_.load(std::memory_order_relaxed);
  out.stale_uses = stale_uses_.load(std::memory_order_relaxed);
  out.unknown_kid_refreshes = unknown_kid_refreshes_.load(std::memory_order_relaxed);
  return out;
}

}  // namespace gh::jose
