#include "pipeline/authz/simple.h"

namespace gh::pipeline::authz {
namespace {

class Allow final : public Authorizer {
 public:
  boost::asio::awaitable<StepResult> authorize(const Request& /*request*/,
                                               Session& /*session*/) const override {
    co_return StepResult();
  }
};

class Deny final : public Authorizer {
 public:
  boost::asio::awaitable<StepResult> authorize(const Request& /*request*/,
                                               Session& /*session*/) const override {
    co_return Unexpected{forbidden("the deny authorizer rejects every request")};
  }
};

}  // namespace

Expected<std::shared_ptr<const Authorizer>, std::string> make_allow(const boost::json::object& /*config*/) {
  return std::shared_ptr<const Authorizer>(std::make_shared<Allow>());
}

Expected<std::shared_ptr<const Authorizer>, std::string> make_deny(const boost::json::object& /*config*/) {
  return std::shared_ptr<const Authorizer>(std::make_shared<Deny>());
}

}  // namespace gh::pipeline::authz
