#include "http/wire.h"

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/serializer.hpp>
#include <gtest/gtest.h>

namespace gh::http {
namespace {

namespace bhttp = boost::beast::http;

// The head as Beast's own serializer writes it, which the proxy used before and which
// append_head must reproduce byte for byte.
template <bool IsRequest>
std::string beast_head(bhttp::message<IsRequest, bhttp::empty_body>& message) {
  bhttp::serializer<IsRequest, bhttp::empty_body> serializer(message);
  serializer.split(true);
  std::string written;
  boost::system::error_code ec;
  while (!serializer.is_header_done()) {
    serializer.next(ec, [&](boost::system::error_code&, const auto& buffers) {
      written += boost::beast::buffers_to_string(buffers);
      serializer.consume(boost::beast::buffer_bytes(buffers));
    });
  }
  return written;
}

TEST(AppendHead, RequestMatchesBeast) {
  bhttp::request<bhttp::empty_body> request{bhttp::verb::get, "/a/b?c=d", 11};
  request.set(bhttp::field::host, "upstream:8080");
  request.set("X-User", "alice");
  request.insert("X-Repeated", "1");
  request.insert("X-Repeated", "2");
  request.set("x-lower-case", "");

  std::string head;
  append_head(request.base(), head);
  EXPECT_EQ(head, beast_head(request));
  EXPECT_EQ(head.substr(0, 22), "GET /a/b?c=d HTTP/1.1\r");
  EXPECT_TRUE(head.ends_with("x-lower-case: \r\n\r\n"));
}

TEST(AppendHead, RequestWithUnknownMethod) {
  bhttp::request<bhttp::empty_body> request;
  request.method_string("PURGE");
  request.target("/");
  request.version(10);

  std::string head;
  append_head(request.base(), head);
  EXPECT_EQ(head, "PURGE / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(head, beast_head(request));
}

TEST(AppendHead, ResponseWithStandardReason) {
  bhttp::response<bhttp::empty_body> response{bhttp::status::not_found, 11};
  response.set(bhttp::field::content_length, "0");

  std::string head;
  append_head(response.base(), head);
  EXPECT_EQ(head, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(head, beast_head(response));
}

TEST(AppendHead, ResponseWithUpstreamReason) {
  bhttp::response<bhttp::empty_body> response;
  response.result(299);
  response.reason("Custom Words");
  response.version(10);
  response.set("Set-Cookie", "a=b");

  std::string head = "prefix|";
  append_head(response.base(), head);
  EXPECT_EQ(head, "prefix|HTTP/1.0 299 Custom Words\r\nSet-Cookie: a=b\r\n\r\n");
  EXPECT_EQ(head.substr(7), beast_head(response));
}

}  // namespace
}  // namespace gh::http
