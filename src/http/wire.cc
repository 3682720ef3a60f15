#include "http/wire.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>

namespace gh::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

void append_version(unsigned version, std::string& out) {
  const char text[] = {'H', 'T', 'T', 'P', '/', static_cast<char>('0' + version / 10 % 10), '.',
                       static_cast<char>('0' + version % 10)};
  out.append(text, sizeof text);
}

void append_fields(const bhttp::fields& fields, std::string& out) {
  for (const auto& field : fields) {
    const auto name = field.name_string();
    const auto value = field.value();
    out.append(name.data(), name.size());
    out.append(": ", 2);
    out.append(value.data(), value.size());
    out.append("\r\n", 2);
  }
  out.append("\r\n", 2);
}

}  // namespace

void append_head(const bhttp::request_header<>& header, std::string& out) {
  const auto method = header.method_string();
  const auto target = header.target();
  out.append(method.data(), method.size());
  out.push_back(' ');
  out.append(target.data(), target.size());
  out.push_back(' ');
  append_version(header.version(), out);
  out.append("\r\n", 2);
  append_fields(header, out);
}

void append_head(const bhttp::response_header<>& header, std::string& out) {
  append_version(header.version(), out);
  const unsigned status = header.result_int();
  const char code[] = {' ', static_cast<char>('0' + status / 100 % 10), static_cast<char>('0' + status / 10 % 10),
                       static_cast<char>('0' + status % 10), ' '};
  out.append(code, sizeof code);
  const auto reason = header.reason();
  out.append(reason.data(), reason.size());
  out.append("\r\n", 2);
  append_fields(header, out);
}

asio::awaitable<void> write_all(beast::tcp_stream& stream, Watchdog& watchdog, Duration timeout,
                                std::span<const asio::const_buffer> pieces, boost::system::error_code& ec) {
  ec = {};
  tcp::socket& socket = stream.socket();
  if (!socket.non_blocking()) {
    socket.non_blocking(true, ec);
    if (ec) co_return;
  }
  const size_t total = asio::buffer_size(pieces);
  size_t sent = socket.write_some(pieces, ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    ec = {};
    sent = 0;
  }
  if (ec || sent == total) co_return;

  beast::buffers_suffix<std::span<const asio::const_buffer>> rest(pieces);
  rest.consume(sent);
  watchdog.expires_after(timeout);
  co_await asio::async_write(stream, rest, asio::redirect_error(asio::use_awaitable, ec));
  ec = watchdog.timed_out(ec);
}

}  // namespace gh::http
