#include "pipeline/mutate/noop.h"

#include <array>
#include <iterator>

namespace gh::pipeline::mutate {
namespace {

bool is_excluded(std::string_view name) {
  static constexpr std::array<std::string_view, 10> kExcluded = {
      "connection", "keep-alive",        "proxy-connection", "proxy-authenticate",
      "proxy-authorization", "te",       "trailer",          "transfer-encoding",
      "upgrade",    "content-length"};
  for (std::string_view excluded : kExcluded) {
    if (http::iequals(name, excluded)) return true;
  }
  return false;
}

class Noop final : public Mutator {
 public:
  boost::asio::awaitable<StepResult> mutate(const Request& request,
                                            Session& session) const override {
    session.header.reserve(session.header.size() + static_cast<size_t>(std::distance(request.headers->begin(),
                                                                                      request.headers->end())));
    // Headers that Connection lists are hop-by-hop too (RFC 9110 section 7.6.1). The proxy has
    // removed them already, and the decision API must not return them either.
    const bool has_connection =
        request.headers->find(boost::beast::http::field::connection) != request.headers->end();
    for (const auto& field : *request.headers) {
      std::string name = http::canonical_header_name(field.name_string());
      if (is_excluded(name)) continue;
      if (has_connection && http::listed_in_connection(*request.headers, name)) continue;
      bool present = false;
      for (const auto& [existing, value] : session.header) {
        if (existing == name) present = true;
      }
      if (!present) session.header.emplace_back(std::move(name), std::string(field.value()));
    }
    co_return StepResult();
  }
};

}  // namespace

Expected<std::shared_ptr<const Mutator>, std::string> make_noop(const boost::json::object& /*config*/) {
  return std::shared_ptr<const Mutator>(std::make_shared<Noop>());
}

}  // namespace gh::pipeline::mutate
