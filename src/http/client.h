// The outbound HTTP/1.1 client for remote calls made by pipeline handlers: key sets now,
// introspection, session stores and token endpoints later.
//
// Each call is one coroutine with one deadline (`timeout` covers resolving, connecting,
// the TLS handshake, writing and reading) and a cap on the response body. Connections are
// kept alive and reused per thread and io_context, like the upstream pool, so a worker
// needs no lock to use them. https peers are verified against the system CA store, host
// name included.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "common/duration.h"
#include "common/expected.h"
#include "http/headers.h"

namespace gh::http {

// Default response body cap: JWKS documents, introspection answers and token responses
// are a few KiB, so 1 MiB leaves room without letting a hostile peer fill memory.
inline constexpr std::size_t kDefaultMaxResponseBytes = 1024 * 1024;

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // absolute http:// or https:// URL
  HeaderList headers;
  std::string body;  // sent with Content-Length when non-empty or when the method is POST or PUT
  Duration timeout = std::chrono::seconds(10);
  std::size_t max_response_bytes = kDefaultMaxResponseBytes;
};

struct ClientResponse {
  int status = 0;
  HeaderList headers;  // as received, in order
  std::string body;

  // The first value of header `name` (case-insensitive), or an empty view.
  std::string_view header(std::string_view name) const;
};

enum class ClientErrorKind {
  invalid_url,  // not an absolute http or https URL with a host
  unreachable,  // name resolution or connection failed, or the peer closed early
  timed_out,    // the deadline passed
  too_large,    // the response header or body is over its limit
  protocol,     // TLS handshake or certificate check failed, or the response is malformed
};

std::string_view to_string(ClientErrorKind kind);

struct ClientError {
  ClientErrorKind kind;
  std::string message;  // names the host and the cause, never a header value or body
};

// Sends `request` and reads the whole response. Runs on the calling coroutine's executor.
// A request on a reused keep-alive connection that fails before any response byte arrives
// is retried once on a new connection, but only for GET, HEAD and OPTIONS.
boost::asio::awaitable<Expected<ClientResponse, ClientError>> fetch(ClientRequest request);

}  // namespace gh::http
