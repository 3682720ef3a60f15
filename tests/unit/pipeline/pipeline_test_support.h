// Helpers shared by the pipeline tests: settings from YAML text, rules from JSON text, and
// running the pipeline coroutine to completion.
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/fields.hpp>

#include "config/config.h"
#include "pipeline/runner.h"
#include "pipeline/snapshot.h"
#include "rules/rule.h"

namespace gh::pipeline::testing {

inline config::Settings settings_from_yaml(const std::string& yaml) {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("gatehouse-pipeline-test-" + std::to_string(::getpid()) + ".yaml");
  {
    std::ofstream out(path);
    out << yaml;
  }
  config::Settings settings = config::to_settings(config::load({path.string()}, {}));
  std::filesystem::remove(path);
  return settings;
}

inline std::shared_ptr<const Snapshot> snapshot_from(const std::string& yaml, const std::string& rules_json) {
  auto snapshot = build_snapshot(settings_from_yaml(yaml), rules::parse_rules(rules_json, "test rules"));
  if (!snapshot) {
    std::string problems;
    for (const std::string& problem : snapshot.error()) problems += problem + "\n";
    throw std::runtime_error("snapshot failed:\n" + problems);
  }
  return *snapshot;
}

// A request for `url` (scheme://host/path) with the given headers.
struct TestRequest {
  boost::beast::http::fields headers;
  Request request;

  TestRequest(std::string method, std::string scheme, std::string host, std::string path) {
    request.method = std::move(method);
    request.scheme = std::move(scheme);
    request.host = std::move(host);
    request.path = std::move(path);
    request.headers = &headers;
  }
};

inline Decision run_decide(const Snapshot& snapshot, const Request& request) {
  boost::asio::io_context context;
  Decision result;
  boost::asio::co_spawn(context, decide(snapshot, request), [&](std::exception_ptr error, Decision decision) {
    if (error) std::rethrow_exception(error);
    result = std::move(decision);
  });
  context.run();
  return result;
}

}  // namespace gh::pipeline::testing
