// The names of the built-in handlers and the factories that build them from their effective
// config (the global config with a rule's config merged over it, defaults filled, validated).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "common/expected.h"
#include "config/config.h"
#include "pipeline/handler.h"

namespace gh::pipeline {

template <typename Handler>
using Factory = std::function<Expected<std::shared_ptr<const Handler>, std::string>(
    const boost::json::object& config)>;

struct Registry {
  std::map<std::string, Factory<Authenticator>, std::less<>> authenticators;
  std::map<std::string, Factory<Authorizer>, std::less<>> authorizers;
  std::map<std::string, Factory<Mutator>, std::less<>> mutators;
  std::map<std::string, Factory<ErrorHandler>, std::less<>> error_handlers;

  // Every handler that ships with gatehouse.
  static const Registry& builtin();
};

// "noop, anonymous, unauthorized": the names a registry map holds, for error messages.
template <typename Map>
std::string handler_names(const Map& map) {
  std::string names;
  for (const auto& [name, factory] : map) {
    if (!names.empty()) names += ", ";
    names += name;
  }
  return names;
}

}  // namespace gh::pipeline
