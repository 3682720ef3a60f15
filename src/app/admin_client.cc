#include "app/admin_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <fmt/format.h>

namespace gh::app {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

gh::Expected<AdminResponse, std::string> admin_request(const std::string& endpoint, const std::string& method,
                                                       const std::string& path, const std::string& body) {
  auto url = boost::urls::parse_absolute_uri(endpoint);
  if (!url || url->scheme() != "http" || url->host().empty()) {
    return gh::Unexpected(fmt::format("invalid --endpoint \"{}\": expected an http URL such as http://127.0.0.1:4445", endpoint));
  }
  std::string base(url->path());
  while (!base.empty() && base.back() == '/') base.pop_back();

  try {
    boost::asio::io_context context;
    boost::asio::ip::tcp::resolver resolver(context);
    beast::tcp_stream stream(context);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(resolver.resolve(url->host(), url->has_port() ? std::string(url->port()) : "80"));

    bhttp::request<bhttp::string_body> request{bhttp::string_to_verb(method), base + path, 11};
    request.set(bhttp::field::host, url->encoded_host_and_port());
    if (!body.empty()) {
      request.set(bhttp::field::content_type, "application/json");
      request.body() = body;
    }
    request.prepare_payload();
    bhttp::write(stream, request);

    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> response;
    bhttp::read(stream, buffer, response);
    return AdminResponse{response.result_int(), response.body()};
  } catch (const std::exception& error) {
    return gh::Unexpected(fmt::format("request to {} failed: {}", endpoint, error.what()));
  }
}

}  // namespace gh::app
