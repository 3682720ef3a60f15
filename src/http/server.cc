#include "http/server.h"

#include "http/headers.h"
#include "http/url.h"
#include "http/wire.h"

#include <list>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace gh::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// A connection's state as seen by shutdown: idle connections are closed at once, busy ones
// finish their current request first.
struct Connection {
  beast::tcp_stream* stream = nullptr;
  bool busy = false;
};

struct Worker {
  asio::io_context context{1};
  std::list<Connection> connections;  // touched only on this worker's thread
};

// Returns why a request header cannot be handled safely, or an empty view. These checks
// close request-smuggling gaps (RFC 9112 sections 3.2 and 6.3): the Host header becomes part
// of the string access rules match, and a body whose length two parsers could read
// differently must never be forwarded.
std::string_view framing_problem(bhttp::request_parser<bhttp::buffer_body>& parser) {
  auto& message = parser.get();
  size_t hosts = message.count(bhttp::field::host);
  if (hosts > 1) return "more than one Host header";
  if (hosts == 0 && message.version() >= 11) return "missing Host header";
  if (hosts == 1 && !is_valid_host(message[bhttp::field::host])) return "Host header is not host[:port]";

  size_t transfer_encodings = message.count(bhttp::field::transfer_encoding);
  if (transfer_encodings > 0) {
    // Only a lone "chunked" is accepted. Beast treats "chunked, chunked" as having no body,
    // and other codings would be dropped when the body is re-framed, so a parser further
    // along could find a different end of the message.
    if (transfer_encodings > 1 || !iequals(trim(message[bhttp::field::transfer_encoding]), "chunked")) {
      return "Transfer-Encoding other than a single chunked";
    }
    if (message.count(bhttp::field::content_length) > 0) return "both Transfer-Encoding and Content-Length";
  }
  // Repeated identical values ("4, 4" or two fields) pass the parser; forward exactly one.
  if (message.count(bhttp::field::content_length) > 0) {
    if (!parser.content_length()) return "invalid Content-Length";
    message.content_length(*parser.content_length());
  }
  // Authenticators read the first Authorization header; a second one could reach the
  // upstream and be read there instead of the credential that was checked.
  if (message.count(bhttp::field::authorization) > 1) return "more than one Authorization header";
  return {};
}

std::string bad_request_body(std::string_view problem) {
  boost::json::object error{{"code", 400}, {"status", "Bad Request"}, {"message", "The request is malformed"},
                            {"reason", problem}};
  return boost::json::serialize(boost::json::object{{"error", std::move(error)}});
}

}  // namespace

struct Server::Impl {
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::atomic<size_t> next_worker{0};
  std::atomic<size_t> open_connections{0};
  std::atomic<bool> draining{false};
  bool started = false;

  Worker& pick_worker() { return *workers[next_worker.fetch_add(1) % workers.size()]; }

  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, ListenerOptions options,
                                    std::shared_ptr<RequestHandler> handler);
  asio::awaitable<void> session(Worker& worker, tcp::socket socket, const ListenerOptions& options,
                                std::shared_ptr<RequestHandler> handler);
};

asio::awaitable<void> Server::Impl::accept_loop(tcp::acceptor& acceptor, ListenerOptions options,
                                                std::shared_ptr<RequestHandler> handler) {
  auto shared_options = std::make_shared<const ListenerOptions>(std::move(options));
  for (;;) {
    Worker& worker = pick_worker();
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(worker.context,
                                                        asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Running out of file descriptors must not end the listener; log and go on.
      spdlog::warn("{} listener: accept failed: {}", shared_options->name, ec.message());
      continue;
    }
    open_connections.fetch_add(1);
    asio::co_spawn(worker.context,
                   [this, &worker, socket = std::move(socket), shared_options, handler]() mutable {
                     return session(worker, std::move(socket), *shared_options, handler);
                   },
                   [this, shared_options](std::exception_ptr error) {
                     if (error) {
                       try {
                         std::rethrow_exception(error);
                       } catch (const std::exception& exception) {
                         spdlog::error("{} connection ended by an exception: {}", shared_options->name,
                                       exception.what());
                       }
                     }
                     open_connections.fetch_sub(1);
                   });
  }
}

asio::awaitable<void> Server::Impl::session(Worker& worker, tcp::socket socket, const ListenerOptions& options,
                                            std::shared_ptr<RequestHandler> handler) {
  boost::system::error_code ec;
  tcp::endpoint remote = socket.remote_endpoint(ec);
  std::string remote_address = ec ? std::string() : remote.address().to_string();
  socket.set_option(tcp::no_delay(true), ec);

  beast::tcp_stream stream(std::move(socket));
  Watchdog watchdog(stream);
  beast::flat_buffer buffer;
  worker.connections.push_back(Connection{&stream, false});
  auto self = std::prev(worker.connections.end());

  bool first = true;
  for (;;) {
    if (draining.load()) break;
    bhttp::request_parser<bhttp::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    parser.body_limit(boost::none);  // bodies are streamed; handlers bound what they buffer

    self->busy = false;
    watchdog.expires_after(first ? options.read_timeout : options.idle_timeout);
    co_await bhttp::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    self->busy = true;
    first = false;
    if (ec) {
      if (ec == bhttp::error::header_limit) {
        Exchange exchange{stream, watchdog, buffer, parser, options, remote_address};
        co_await write_simple_response(exchange, 431, "application/json",
                                       R"({"error":{"code":431,"status":"Request Header Fields Too Large","message":"The request header is larger than the server accepts"}})",
                                       {}, false);
      } else if (ec != bhttp::error::end_of_stream && ec != asio::error::eof &&
                 ec != beast::error::timeout && ec != asio::error::operation_aborted &&
                 ec != asio::error::connection_reset && buffer.size() > 0) {
        Exchange exchange{stream, watchdog, buffer, parser, options, remote_address};
        co_await write_simple_response(exchange, 400, "application/json",
                                       R"({"error":{"code":400,"status":"Bad Request","message":"The request is not valid HTTP/1.1"}})",
                                       {}, false);
      }
      break;
    }

    Exchange exchange{stream, watchdog, buffer, parser, options, remote_address};
    if (std::string_view problem = framing_problem(parser); !problem.empty()) {
      spdlog::debug("{} listener: rejected a request from {}: {}", options.name, remote_address, problem);
      co_await write_simple_response(exchange, 400, "application/json", bad_request_body(problem), {}, false);
      break;
    }
    bool keep_alive = co_await handler->handle(exchange);
    if (!keep_alive) break;
  }

  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.close();
  worker.connections.erase(self);
}

Server::Server(size_t worker_count) : impl_(std::make_unique<Impl>()) {
  if (worker_count == 0) worker_count = 1;
  for (size_t i = 0; i < worker_count; ++i) impl_->workers.push_back(std::make_unique<Worker>());
}

Server::~Server() {
  for (auto& worker : impl_->workers) worker->context.stop();
  for (std::thread& thread : impl_->threads) {
    if (thread.joinable()) thread.join();
  }
}

uint16_t Server::listen(ListenerOptions options, std::shared_ptr<RequestHandler> handler) {
  Worker& worker = *impl_->workers.front();
  asio::ip::address address = options.host.empty() ? asio::ip::address(asio::ip::address_v6::any())
                                                    : asio::ip::make_address(options.host);
  tcp::endpoint endpoint(address, options.port);

  auto acceptor = std::make_unique<tcp::acceptor>(worker.context);
  acceptor->open(endpoint.protocol());
  acceptor->set_option(asio::socket_base::reuse_address(true));
  if (address.is_v6()) {
    // An empty host means every interface, IPv4 included.
    acceptor->set_option(asio::ip::v6_only(false));
  }
  acceptor->bind(endpoint);
  acceptor->listen(asio::socket_base::max_listen_connections);
  uint16_t port = acceptor->local_endpoint().port();

  spdlog::info("{} listening on {}:{}", options.name, options.host.empty() ? "*" : options.host, port);
  tcp::acceptor& ref = *acceptor;
  impl_->acceptors.push_back(std::move(acceptor));
  asio::co_spawn(worker.context, impl_->accept_loop(ref, std::move(options), std::move(handler)), asio::detached);
  return port;
}

void Server::start() {
  impl_->started = true;
  for (auto& worker : impl_->workers) {
    impl_->threads.emplace_back([context = &worker->context] {
      auto guard = asio::make_work_guard(*context);
      context->run();
    });
  }
}

void Server::shutdown(Duration grace) {
  impl_->draining.store(true);
  asio::post(impl_->workers.front()->context, [this] {
    for (auto& acceptor : impl_->acceptors) {
      boost::system::error_code ec;
      acceptor->close(ec);
    }
  });
  for (auto& worker : impl_->workers) {
    asio::post(worker->context, [w = worker.get()] {
      for (Connection& connection : w->connections) {
        if (!connection.busy) connection.stream->cancel();
      }
    });
  }

  auto deadline = std::chrono::steady_clock::now() + grace;
  while (impl_->open_connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (auto& worker : impl_->workers) {
      asio::post(worker->context, [w = worker.get()] {
        for (Connection& connection : w->connections) {
          if (!connection.busy) connection.stream->cancel();
        }
      });
    }
  }
  if (impl_->open_connections.load() > 0) {
    spdlog::warn("shutdown: {} connections still open after the grace period; closing them",
                 impl_->open_connections.load());
  }
  for (auto& worker : impl_->workers) worker->context.stop();
  for (std::thread& thread : impl_->threads) {
    if (thread.joinable()) thread.join();
  }
  impl_->threads.clear();
}

asio::io_context& Server::worker(size_t index) { return impl_->workers[index % impl_->workers.size()]->context; }

size_t Server::worker_count() const { return impl_->workers.size(); }

asio::awaitable<bool> write_simple_response(Exchange& exchange, unsigned status, std::string_view content_type,
                                            std::string body,
                                            const std::vector<std::pair<std::string, std::string>>& headers,
                                            bool keep_alive) {
  const auto& request = exchange.parser.get();
  bhttp::response<bhttp::empty_body> response;
  response.result(status);
  response.version(request.version() == 10 ? 10 : 11);
  for (const auto& [name, value] : headers) response.insert(name, value);
  if (!content_type.empty()) response.set(bhttp::field::content_type, content_type);
  // 1xx, 204 and 304 responses have no body and no Content-Length (RFC 9110 sections 8.6,
  // 15.3.5 and 15.4.5).
  const bool bodiless = status / 100 == 1 || status == 204 || status == 304;
  if (bodiless) body.clear();
  if (!bodiless) response.set(bhttp::field::content_length, std::to_string(body.size()));
  // An unread request body would be taken for the next request, so such a connection closes.
  response.keep_alive(keep_alive && request.keep_alive() && exchange.parser.is_done());

  // A response to HEAD carries the Content-Length of the body it leaves out.
  std::string head;
  append_head(response.base(), head);
  const bool head_request = request.method() == bhttp::verb::head;
  const std::array<asio::const_buffer, 2> pieces{asio::buffer(head),
                                                 head_request ? asio::const_buffer() : asio::buffer(body)};
  const std::span<const asio::const_buffer> whole(pieces);
  boost::system::error_code ec;
  co_await write_all(exchange.stream, exchange.watchdog, exchange.options.write_timeout, whole, ec);
  co_return !ec && response.keep_alive();
}

}  // namespace gh::http
