// Writing HTTP/1.1 messages without Beast's serializer, and without a reactor round trip when
// the kernel takes the bytes at once.
//
// Beast's serializer walks a chain of nested buffer views, one step per field, which cost
// about a quarter of the instructions of a proxied request. The proxy's common case, a
// message whose head and whole body fit in memory, copies the head into one string instead
// and hands it to a single write. The bytes are the same as the serializer's: the start line,
// "Name: value\r\n" for each field in order, and an empty line.
#pragma once

#include <span>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/system/error_code.hpp>

#include "common/duration.h"
#include "http/watchdog.h"

namespace gh::http {

// Appends "<method> <target> HTTP/x.y\r\n", every field in order and the empty line.
void append_head(const boost::beast::http::request_header<>& header, std::string& out);

// Appends "HTTP/x.y <status> <reason>\r\n", every field in order and the empty line. The
// reason is the one the message carries, or the standard one for its status when empty.
void append_head(const boost::beast::http::response_header<>& header, std::string& out);

// Writes `pieces` in full to a plain TCP stream. One non-blocking send comes first. For the
// short messages of most requests it takes everything, so no completion handler is queued, no
// coroutine is suspended and often no extra epoll_wait runs. Whatever the kernel did not take
// is then written asynchronously within `timeout`. Sets the socket's non-blocking mode on
// first use.
boost::asio::awaitable<void> write_all(boost::beast::tcp_stream& stream, Watchdog& watchdog, Duration timeout,
                                       std::span<const boost::asio::const_buffer> pieces,
                                       boost::system::error_code& ec);

}  // namespace gh::http
