// gatehouse-echo: the upstream service used by the integration tests and the quickstart.
//
// The server returns a JSON document for every HTTP request that describes what arrived: method,
// raw target, path, query, version, every header in order and the body. Request headers
// select test behaviours:
//   X-Echo-Delay-Ms: N        wait N ms (at most 60000) before answering
//   X-Echo-Status: N          answer with status N (200..599)
//   X-Echo-Chunked: N         send the body as N chunks with chunked transfer encoding
//                             (HTTP/1.1 only, and not for HEAD, 204 or 304)
//   X-Echo-Chunk-Delay-Ms: N  wait N ms (at most 60000) between those chunks
//   X-Echo-Close: 1           close the connection instead of answering (after any delay)
// A WebSocket upgrade request is accepted and every message is sent back unchanged.
//
// The server runs on one thread: each connection is a coroutine, and SIGINT or SIGTERM stops
// the event loop, which destroys the open connections.
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = net::ip::tcp;
using Request = http::request<http::string_body>;
using FieldList = std::vector<std::pair<std::string, std::string>>;

// Large enough for any body a test sends through the proxy, small enough that a runaway
// client cannot exhaust memory on a shared test machine.
constexpr std::size_t kMaxBodyBytes = 64 * 1024 * 1024;
// Beast's default header limit is 8 KiB, which is too small for tests of large headers.
constexpr std::uint32_t kMaxHeaderBytes = 64 * 1024;
// Applies to every read and write of a connection and to WebSocket inactivity.
constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr long kMaxDelayMs = 60000;
constexpr long kMaxChunks = 65536;

// Completion token that returns errors as values, so normal events such as a client
// closing its connection do not raise exceptions.
constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);

struct Options {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  std::string name;
};

// Test behaviours selected by X-Echo-* request headers.
struct EchoControls {
  std::chrono::milliseconds delay{0};
  unsigned status = 200;
  long chunks = 0;  // 0 sends the body with Content-Length
  std::chrono::milliseconds chunk_delay{0};
  bool close = false;
};

// ---- command line -------------------------------------------------------------------------

constexpr std::string_view kUsage =
    "usage: gatehouse-echo [--host ADDRESS] [--port PORT] [--name NAME]\n"
    "  --host ADDRESS  IP address to listen on (default 127.0.0.1)\n"
    "  --port PORT     TCP port to listen on; 0 picks a free port (default 0)\n"
    "  --name NAME     value of the \"name\" field in every response (default empty)\n"
    "On start the server prints `listening on HOST:PORT` on one line of stdout.\n";

std::optional<long> parse_integer(std::string_view text) {
  long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Returns an error message, or an empty string when every argument was understood.
std::string parse_options(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    std::string_view argument = argv[i];
    std::string_view value;
    const auto equals = argument.find('=');
    if (equals != std::string_view::npos) {
      value = argument.substr(equals + 1);
      argument = argument.substr(0, equals);
    } else if (argument == "--host" || argument == "--port" || argument == "--name") {
      if (i + 1 >= argc) return "missing value for " + std::string(argument);
      value = argv[++i];
    }

    if (argument == "--help" || argument == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (argument == "--host") {
      options.host = value;
    } else if (argument == "--name") {
      options.name = value;
    } else if (argument == "--port") {
      const auto port = parse_integer(value);
      if (!port || *port < 0 || *port > 65535) {
        return "invalid --port '" + std::string(value) + "': expected 0..65535";
      }
      options.port = static_cast<unsigned short>(*port);
    } else {
      return "unknown option '" + std::string(argument) + "'";
    }
  }
  return {};
}

// ---- request description ------------------------------------------------------------------

// Returns the length of the well-formed UTF-8 sequence at the start of text, or 0 when the
// first bytes are not one (Unicode 15, table 3-7).
std::size_t utf8_sequence_length(std::string_view text) {
  const auto lead = static_cast<unsigned char>(text[0]);
  if (lead < 0x80) return 1;

  std::size_t length = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;  // overlong
    if (lead == 0xED) second_max = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;  // overlong
    if (lead == 0xF4) second_max = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length) return 0;

  for (std::size_t i = 1; i < length; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const unsigned char min = i == 1 ? second_min : 0x80;
    const unsigned char max = i == 1 ? second_max : 0xBF;
    if (byte < min || byte > max) return 0;
  }
  return length;
}

// Replaces every byte that is not part of well-formed UTF-8 with U+FFFD, so the body can be
// a JSON string. Sets `changed` when a replacement happened.
std::string to_valid_utf8(std::string_view bytes, bool& changed) {
  std::string text;
  text.reserve(bytes.size());
  changed = false;
  while (!bytes.empty()) {
    const std::size_t length = utf8_sequence_length(bytes);
    if (length == 0) {
      text += "\xEF\xBF\xBD";
      bytes.remove_prefix(1);
      changed = true;
      continue;
    }
    text.append(bytes.substr(0, length));
    bytes.remove_prefix(length);
  }
  return text;
}

std::string to_base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string encoded;
  encoded.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t available = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      const auto byte = j < available ? static_cast<unsigned char>(bytes[i + j]) : 0;
      group = (group << 8) | byte;
    }
    for (std::size_t j = 0; j < 4; ++j) {
      const bool padding = j > available;
      encoded += padding ? '=' : kAlphabet[(group >> (18 - 6 * j)) & 0x3F];
    }
  }
  return encoded;
}

// Builds the JSON response body. A body that is not valid UTF-8 is also returned exactly, as
// "body_base64", because "body" then contains replacement characters.
std::string describe_request(const Request& request, const FieldList& fields,
                             std::string_view name) {
  const std::string_view target = request.target();
  const auto question_mark = target.find('?');
  const std::string_view path = target.substr(0, question_mark);
  const std::string_view query = question_mark == std::string_view::npos
                                     ? std::string_view{}
                                     : target.substr(question_mark + 1);

  json::array headers;
  for (const auto& [field_name, field_value] : fields) {
    headers.push_back(json::array{field_name, field_value});
  }

  const std::string& body = request.body();
  bool body_changed = false;
  json::object description;
  description["name"] = name;
  description["method"] = request.method_string();
  description["target"] = target;
  description["path"] = path;
  description["query"] = query;
  description["http_version"] = request.version() == 10 ? "1.0" : "1.1";
  description["headers"] = std::move(headers);
  description["body"] = to_valid_utf8(body, body_changed);
  description["body_length"] = static_cast<std::uint64_t>(body.size());
  if (body_changed) description["body_base64"] = to_base64(body);
  return json::serialize(description);
}

// ---- request parsing ---------------------------------------------------------------------

// Parses one request into a beast message and also records the header fields in the order
// they arrived. Beast's own fields container keeps fields with the same name next to each
// other, which would hide the order the tests check.
class RequestReader final : public http::basic_parser<true> {
 public:
  RequestReader() {
    header_limit(kMaxHeaderBytes);
    body_limit(kMaxBodyBytes);
  }

  Request& request() { return request_; }
  const FieldList& fields() const { return fields_; }

 private:
  void on_request_impl(http::verb method, beast::string_view method_text, beast::string_view target,
                       int version, beast::error_code&) override {
    if (method == http::verb::unknown) {
      request_.method_string(method_text);
    } else {
      request_.method(method);
    }
    request_.target(target);
    request_.version(version);
  }

  void on_response_impl(int, beast::string_view, int, beast::error_code& error) override {
    error = http::error::bad_version;  // only requests reach this parser
  }

  void on_field_impl(http::field name, beast::string_view name_text, beast::string_view value,
                     beast::error_code&) override {
    request_.insert(name, name_text, value);
    fields_.emplace_back(name_text, value);
  }

  void on_header_impl(beast::error_code&) override {}

  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         beast::error_code&) override {
    // The base parser has already rejected lengths above the body limit.
    if (content_length) request_.body().reserve(static_cast<std::size_t>(*content_length));
  }

  std::size_t on_body_impl(beast::string_view data, beast::error_code&) override {
    request_.body().append(data);
    return data.size();
  }

  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}

  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view data,
                                 beast::error_code&) override {
    request_.body().append(data);
    return data.size();
  }

  void on_finish_impl(beast::error_code&) override {}

  Request request_;
  FieldList fields_;
};

// ---- test controls ------------------------------------------------------------------------

// Reads one X-Echo-* header as an integer in [min, max]. Values above max are lowered to max
// when `clamp` is set. Returns an error message, or an empty string.
std::string read_control(const Request& request, std::string_view header, long min, long max,
                         bool clamp, long& value) {
  const auto field = request.find(header);
  if (field == request.end()) return {};

  const auto parsed = parse_integer(field->value());
  if (!parsed || *parsed < min || (*parsed > max && !clamp)) {
    return "invalid " + std::string(header) + " '" + std::string(field->value()) +
           "': expected an integer in " + std::to_string(min) + ".." + std::to_string(max);
  }
  value = std::min(*parsed, max);
  return {};
}

// Returns an error message naming the bad header, or an empty string.
std::string read_controls(const Request& request, EchoControls& controls) {
  long delay_ms = 0;
  long status = 200;
  long chunk_delay_ms = 0;
  long close = 0;
  std::string error;
  if (error.empty())
    error = read_control(request, "X-Echo-Delay-Ms", 0, kMaxDelayMs, true, delay_ms);
  if (error.empty()) error = read_control(request, "X-Echo-Status", 200, 599, false, status);
  if (error.empty())
    error = read_control(request, "X-Echo-Chunked", 1, kMaxChunks, false, controls.chunks);
  if (error.empty()) {
    error = read_control(request, "X-Echo-Chunk-Delay-Ms", 0, kMaxDelayMs, true, chunk_delay_ms);
  }
  if (error.empty()) error = read_control(request, "X-Echo-Close", 0, 1, false, close);
  if (!error.empty()) return error;

  controls.delay = std::chrono::milliseconds(delay_ms);
  controls.status = static_cast<unsigned>(status);
  controls.chunk_delay = std::chrono::milliseconds(chunk_delay_ms);
  controls.close = close == 1;
  return {};
}

// ---- responses ----------------------------------------------------------------------------

net::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  if (duration.count() == 0) co_return;
  net::steady_timer timer{co_await net::this_coro::executor, duration};
  co_await timer.async_wait(kNoThrow);
}

// Sends a JSON error body. The caller closes the connection afterwards.
net::awaitable<void> send_error(beast::tcp_stream& stream, http::status status,
                                std::string_view message) {
  http::response<http::string_body> response{status, 11};
  response.set(http::field::content_type, "application/json");
  response.keep_alive(false);
  response.body() = json::serialize(json::object{{"error", message}});
  response.prepare_payload();
  stream.expires_after(kIdleTimeout);
  co_await http::async_write(stream, response, kNoThrow);
}

// Sends the body as `chunks` pieces of equal size (the last may be shorter), each in its own
// write, so a client or proxy receives them separately.
net::awaitable<beast::error_code> send_chunked(beast::tcp_stream& stream,
                                               http::response_header<> header,
                                               const std::string& body,
                                               const EchoControls& controls) {
  http::response<http::empty_body> head{std::move(header)};
  head.chunked(true);
  http::response_serializer<http::empty_body> serializer{head};
  stream.expires_after(kIdleTimeout);
  auto [error, sent] = co_await http::async_write_header(stream, serializer, kNoThrow);
  if (error) co_return error;

  // An empty chunk would end the body early, so there are never more chunks than bytes.
  const auto count = std::min<std::size_t>(static_cast<std::size_t>(controls.chunks), body.size());
  const std::size_t chunk_size = (body.size() + count - 1) / count;
  for (std::size_t offset = 0; offset < body.size(); offset += chunk_size) {
    if (offset != 0) co_await sleep_for(controls.chunk_delay);
    const std::size_t length = std::min(chunk_size, body.size() - offset);
    stream.expires_after(kIdleTimeout);
    std::tie(error, sent) = co_await net::async_write(
        stream, http::make_chunk(net::buffer(body.data() + offset, length)), kNoThrow);
    if (error) co_return error;
  }

  stream.expires_after(kIdleTimeout);
  std::tie(error, sent) = co_await net::async_write(stream, http::make_chunk_last(), kNoThrow);
  co_return error;
}

bool status_forbids_body(unsigned status) { return status == 204 || status == 304; }

// Sends the response to one request, or closes the connection when X-Echo-Close requests it.
// Returns true when the connection stays open for the next request.
net::awaitable<bool> answer(beast::tcp_stream& stream, const Request& request,
                            const FieldList& fields, std::string_view name) {
  EchoControls controls;
  if (const std::string error = read_controls(request, controls); !error.empty()) {
    co_await send_error(stream, http::status::bad_request, error);
    co_return false;
  }

  co_await sleep_for(controls.delay);
  if (controls.close) co_return false;

  const std::string description = describe_request(request, fields, name);
  http::response<http::string_body> response{static_cast<http::status>(controls.status),
                                             request.version()};
  response.set(http::field::content_type, "application/json");
  response.keep_alive(request.keep_alive());

  const bool head_request = request.method() == http::verb::head;
  const bool chunked = controls.chunks > 0 && request.version() == 11 && !head_request &&
                       !status_forbids_body(controls.status);
  beast::error_code error;
  if (chunked) {
    error = co_await send_chunked(stream, std::move(response.base()), description, controls);
  } else {
    // A HEAD response announces the length of the body a GET would get, and 204 and 304
    // responses have neither a body nor a Content-Length.
    if (head_request) response.content_length(description.size());
    if (!head_request && !status_forbids_body(controls.status)) {
      response.body() = description;
      response.prepare_payload();
    }
    stream.expires_after(kIdleTimeout);
    std::size_t sent = 0;
    std::tie(error, sent) = co_await http::async_write(stream, response, kNoThrow);
  }
  co_return !error && request.keep_alive();
}

// ---- connections --------------------------------------------------------------------------

bool is_normal_disconnect(const beast::error_code& error) {
  return error == http::error::end_of_stream || error == beast::error::timeout ||
         error == net::error::connection_reset || error == net::error::operation_aborted ||
         error == net::error::eof || error == websocket::error::closed;
}

void report_error(std::string_view what, const beast::error_code& error) {
  if (is_normal_disconnect(error)) return;
  std::cerr << "gatehouse-echo: " << what << " failed: " << error.message() << '\n';
}

void report_exception(std::exception_ptr exception) {
  if (!exception) return;
  try {
    std::rethrow_exception(exception);
  } catch (const std::exception& error) {
    std::cerr << "gatehouse-echo: connection failed: " << error.what() << '\n';
  }
}

net::awaitable<void> serve_websocket(beast::tcp_stream stream, Request request) {
  // The WebSocket stream has its own timeouts, so the TCP stream's timer is switched off.
  stream.expires_never();
  websocket::stream<beast::tcp_stream> socket{std::move(stream)};
  auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
  timeouts.idle_timeout = kIdleTimeout;
  socket.set_option(timeouts);
  socket.read_message_max(kMaxBodyBytes);

  auto [error] = co_await socket.async_accept(request, kNoThrow);
  if (error) {
    report_error("WebSocket handshake", error);
    co_return;
  }

  beast::flat_buffer buffer;
  for (;;) {
    std::size_t size = 0;
    std::tie(error, size) = co_await socket.async_read(buffer, kNoThrow);
    if (error) break;
    socket.text(socket.got_text());
    std::tie(error, size) = co_await socket.async_write(buffer.data(), kNoThrow);
    if (error) break;
    buffer.consume(buffer.size());
  }
  report_error("WebSocket echo", error);
}

// Sends the interim 100 response that a client sending `Expect: 100-continue` waits for
// before it sends the body.
net::awaitable<beast::error_code> send_continue(beast::tcp_stream& stream) {
  http::response<http::empty_body> response{http::status::continue_, 11};
  stream.expires_after(kIdleTimeout);
  auto [error, sent] = co_await http::async_write(stream, response, kNoThrow);
  co_return error;
}

// Reads one request, header first so that `Expect: 100-continue` can be honoured.
net::awaitable<beast::error_code> read_request(beast::tcp_stream& stream,
                                               beast::flat_buffer& buffer, RequestReader& parser) {
  stream.expires_after(kIdleTimeout);
  auto [error, size] = co_await http::async_read_header(stream, buffer, parser, kNoThrow);
  if (error || parser.is_done()) co_return error;

  const auto expect = parser.request()[http::field::expect];
  if (beast::iequals(expect, "100-continue")) {
    error = co_await send_continue(stream);
    if (error) co_return error;
  }

  stream.expires_after(kIdleTimeout);
  std::tie(error, size) = co_await http::async_read(stream, buffer, parser, kNoThrow);
  co_return error;
}

net::awaitable<void> serve_connection(beast::tcp_stream stream, std::string name) {
  beast::flat_buffer buffer;
  for (;;) {
    RequestReader parser;
    const beast::error_code error = co_await read_request(stream, buffer, parser);
    if (error == http::error::body_limit) {
      co_await send_error(stream, http::status::payload_too_large, "request body exceeds 64 MiB");
      break;
    }
    if (error == http::error::header_limit) {
      co_await send_error(stream, http::status::request_header_fields_too_large,
                          "request header exceeds 64 KiB");
      break;
    }
    if (error && !is_normal_disconnect(error)) {
      co_await send_error(stream, http::status::bad_request,
                          "invalid HTTP request: " + error.message());
      break;
    }
    if (error) break;

    Request& request = parser.request();
    if (websocket::is_upgrade(request)) {
      co_await serve_websocket(std::move(stream), std::move(request));
      co_return;
    }
    if (!co_await answer(stream, request, parser.fields(), name)) break;
  }

  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.socket().close(ignored);
}

net::awaitable<void> accept_connections(tcp::acceptor& acceptor, std::string name) {
  for (;;) {
    auto [error, socket] = co_await acceptor.async_accept(kNoThrow);
    if (error == net::error::operation_aborted) co_return;
    if (error) {
      // Typically too many open files: wait a little instead of spinning on the error.
      std::cerr << "gatehouse-echo: accept failed: " << error.message() << '\n';
      co_await sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    net::co_spawn(acceptor.get_executor(),
                  serve_connection(beast::tcp_stream{std::move(socket)}, name), report_exception);
  }
}

std::string format_endpoint(const tcp::endpoint& endpoint) {
  const std::string address = endpoint.address().to_string();
  const std::string port = std::to_string(endpoint.port());
  if (endpoint.address().is_v6()) return "[" + address + "]:" + port;
  return address + ":" + port;
}

// Opens, binds and starts listening. Returns an error message, or an empty string.
std::string listen(tcp::acceptor& acceptor, const Options& options) {
  beast::error_code error;
  const auto address = net::ip::make_address(options.host, error);
  if (error) return "invalid --host '" + options.host + "': expected an IP address";

  const tcp::endpoint endpoint{address, options.port};
  acceptor.open(endpoint.protocol(), error);
  if (!error) acceptor.set_option(net::socket_base::reuse_address(true), error);
  if (!error) acceptor.bind(endpoint, error);
  if (!error) acceptor.listen(net::socket_base::max_listen_connections, error);
  if (error) return "cannot listen on " + format_endpoint(endpoint) + ": " + error.message();
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (const std::string error = parse_options(argc, argv, options); !error.empty()) {
    std::cerr << "gatehouse-echo: " << error << '\n' << kUsage;
    return 2;
  }

  net::io_context context{1};
  tcp::acceptor acceptor{context};
  if (const std::string error = listen(acceptor, options); !error.empty()) {
    std::cerr << "gatehouse-echo: " << error << '\n';
    return 1;
  }

  // The handler is installed before the address is printed, because a test may send a signal
  // as soon as it has read that line.
  net::signal_set signals{context, SIGINT, SIGTERM};
  signals.async_wait([&](const beast::error_code&, int) {
    beast::error_code ignored;
    acceptor.close(ignored);
    context.stop();
  });
  std::cout << "listening on " << format_endpoint(acceptor.local_endpoint()) << std::endl;

  net::co_spawn(context, accept_connections(acceptor, options.name), report_exception);
  context.run();
  return 0;
}
