#include "pipeline/authn/simple.h"

#include <boost/beast/http/field.hpp>

namespace gh::pipeline::authn {
namespace {

class Noop final : public Authenticator {
 public:
  boost::asio::awaitable<AuthnResult> authenticate(const Request& /*request*/,
                                                   Session& session) const override {
    session.subject.clear();
    co_return AuthnResult::authenticated();
  }
};

class Anonymous final : public Authenticator {
 public:
  explicit Anonymous(std::string subject) : subject_(std::move(subject)) {}

  boost::asio::awaitable<AuthnResult> authenticate(const Request& request,
                                                   Session& session) const override {
    auto authorization = request.headers->find(boost::beast::http::field::authorization);
    if (authorization != request.headers->end() && !authorization->value().empty()) {
      co_return AuthnResult::not_responsible();
    }
    session.subject = subject_;
    co_return AuthnResult::authenticated();
  }

 private:
  std::string subject_;
};

class Unauthorized final : public Authenticator {
 public:
  boost::asio::awaitable<AuthnResult> authenticate(const Request& /*request*/,
                                                   Session& /*session*/) const override {
    co_return AuthnResult::failed(unauthorized("the unauthorized authenticator rejects every request"));
  }
};

}  // namespace

Expected<std::shared_ptr<const Authenticator>, std::string> make_noop(
    const boost::json::object& /*config*/) {
  return std::shared_ptr<const Authenticator>(std::make_shared<Noop>());
}

Expected<std::shared_ptr<const Authenticator>, std::string> make_anonymous(
    const boost::json::object& config) {
  std::string subject = "anonymous";
  if (const boost::json::value* value = config.if_contains("subject");
      value != nullptr && value->is_string() && !value->as_string().empty()) {
    subject = std::string(value->as_string());
  }
  return std::shared_ptr<const Authenticator>(std::make_shared<Anonymous>(std::move(subject)));
}

Expected<std::shared_ptr<const Authenticator>, std::string> make_unauthorized(
    const boost::json::object& /*config*/) {
  return std::shared_ptr<const Authenticator>(std::make_shared<Unauthorized>());
}

}  // namespace gh::pipeline::authn
