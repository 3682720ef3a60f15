#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <fmt/format.h>

#include "app/commands.h"

namespace gh::app {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

int run_health(const std::string& endpoint, const std::string& check) {
  auto url = boost::urls::parse_absolute_uri(endpoint);
  if (!url || url->scheme() != "http" || url->host().empty()) {
    fmt::print(stderr, "invalid --endpoint \"{}\": expected an http URL such as http://127.0.0.1:4456\n", endpoint);
    return 2;
  }
  std::string host = url->host();
  std::string port = url->has_port() ? std::string(url->port()) : "80";
  std::string path = std::string(url->path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  path += "/health/" + check;

  try {
    boost::asio::io_context context;
    boost::asio::ip::tcp::resolver resolver(context);
    beast::tcp_stream stream(context);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(resolver.resolve(host, port));

    bhttp::request<bhttp::empty_body> request{bhttp::verb::get, path, 11};
    request.set(bhttp::field::host, url->encoded_host_and_port());
    bhttp::write(stream, request);

    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> response;
    bhttp::read(stream, buffer, response);

    boost::system::error_code ec;
    boost::json::value body = boost::json::parse(response.body(), ec);
    bool ok = response.result_int() == 200 && !ec && body.is_object() && body.as_object().contains("status") &&
              body.as_object().at("status") == "ok";
    fmt::print("{}\n", response.body());
    return ok ? 0 : 1;
  } catch (const std::exception& error) {
    fmt::print(stderr, "health check of {} failed: {}\n", endpoint, error.what());
    return 1;
  }
}

}  // namespace gh::app
