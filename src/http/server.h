// The HTTP/1.1 server: listeners, a fixed pool of worker threads, connection sessions.
//
// One io_context per worker thread; each listener's acceptor hands new connections to the
// workers in turn, and a connection stays on its worker for its whole life, so per-worker
// state (the upstream connection pool) needs no lock. Request handling is a coroutine per
// connection. Every read and write carries a timeout.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "common/duration.h"
#include "http/watchdog.h"

namespace gh::http {

struct ListenerOptions {
  std::string name;  // "proxy", "api": for logs
  std::string host;  // empty means every interface
  uint16_t port = 0;
  Duration read_timeout = std::chrono::seconds(5);
  Duration write_timeout = std::chrono::seconds(120);
  Duration idle_timeout = std::chrono::seconds(120);
  size_t header_limit = 32 * 1024;  // bytes of request line plus headers
};

// A request whose header has been read; its body, if any, is still on the connection.
struct Exchange {
  boost::beast::tcp_stream& stream;
  Watchdog& watchdog;  // the timeouts of `stream`: set one before every read and write
  boost::beast::flat_buffer& buffer;
  boost::beast::http::request_parser<boost::beast::http::buffer_body>& parser;
  const ListenerOptions& options;
  std::string remote_address;
};

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Handles one request. Returns true when the connection may carry another request.
  virtual boost::asio::awaitable<bool> handle(Exchange& exchange) = 0;
};

class Server {
 public:
  explicit Server(size_t worker_count);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds a listener. Throws boost::system::system_error when the address cannot be bound.
  // Returns the bound port (useful with port 0).
  uint16_t listen(ListenerOptions options, std::shared_ptr<RequestHandler> handler);

  // Starts the worker threads.
  void start();

  // Stops accepting, lets in-flight requests finish (closing idle keep-alive connections),
  // and returns once every connection is closed or `grace` has passed; then stops workers.
  void shutdown(Duration grace);

  // The executor of worker `index`, for background work that must run on a worker.
  boost::asio::io_context& worker(size_t index);
  size_t worker_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes a complete small response (error pages, API responses) with the write timeout.
boost::asio::awaitable<bool> write_simple_response(Exchange& exchange, unsigned status,
                                                   std::string_view content_type, std::string body,
                                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                                   bool keep_alive);

}  // namespace gh::http
