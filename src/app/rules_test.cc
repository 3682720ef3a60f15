// `gatehouse rules test`: which access rule matches a request, and what the pipeline decides.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/url/parse.hpp>
#include <fmt/format.h>

#include "app/commands.h"
#include "app/loading.h"
#include "http/url.h"
#include "pipeline/runner.h"

namespace gh::app {
namespace {

void print_match(const pipeline::Snapshot& snapshot, const pipeline::Request& request) {
  rules::MatchResult match = snapshot.matcher->match(request.method, request.match_url());
  switch (match.kind) {
    case rules::MatchResult::Kind::none:
      fmt::print("match: no rule matches {} {}\n", request.method, request.match_url());
      return;
    case rules::MatchResult::Kind::many:
      fmt::print("match: {} rules match, which is a 500 error:", match.indexes.size());
      for (size_t index : match.indexes) fmt::print(" \"{}\"", snapshot.matcher->rules()[index].id);
      fmt::print("\n");
      return;
    case rules::MatchResult::Kind::one: {
      const rules::Rule& rule = snapshot.matcher->rules()[match.index];
      fmt::print("match: rule \"{}\" (pattern {})\n", rule.id, rule.match_url);
      for (size_t i = 0; i < match.captures.size(); ++i) fmt::print("  capture {}: {}\n", i, match.captures[i]);
      return;
    }
  }
}

}  // namespace

int run_rules_test(const std::vector<std::string>& config_files, const std::string& method, const std::string& url,
                   const std::vector<std::string>& headers) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || parsed->host().empty()) {
    fmt::print(stderr, "invalid --url \"{}\": expected an absolute URL such as https://api.example.com/users/42\n", url);
    return 2;
  }
  boost::beast::http::fields fields;
  for (const std::string& header : headers) {
    size_t colon = header.find(':');
    if (colon == std::string::npos || colon == 0) {
      fmt::print(stderr, "invalid --header \"{}\": expected \"Name: value\"\n", header);
      return 2;
    }
    std::string_view value = std::string_view(header).substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    fields.insert(header.substr(0, colon), value);
  }

  auto snapshot = load_snapshot(config_files);
  if (!snapshot) {
    fmt::print(stderr, "The configuration is invalid:\n");
    for (const std::string& problem : snapshot.error()) fmt::print(stderr, "  {}\n", problem);
    return 1;
  }

  std::optional<std::string> path = http::percent_decode(parsed->encoded_path());
  if (!path) {
    fmt::print(stderr, "invalid --url \"{}\": the path has an invalid percent escape\n", url);
    return 2;
  }
  pipeline::Request request;
  request.method = method;
  request.scheme = parsed->scheme();
  request.host = parsed->encoded_host_and_port();
  request.path = http::normalize_path(path->empty() ? "/" : *path);
  request.raw_query = parsed->encoded_query();
  request.headers = &fields;
  if (!fields.count(boost::beast::http::field::host)) fields.set(boost::beast::http::field::host, request.host);

  print_match(**snapshot, request);

  boost::asio::io_context context;
  pipeline::Decision decision;
  boost::asio::co_spawn(context, pipeline::decide(**snapshot, request),
                        [&](std::exception_ptr error, pipeline::Decision result) {
                          if (error) std::rethrow_exception(error);
                          decision = std::move(result);
                        });
  context.run();

  if (decision.allowed) {
    fmt::print("decision: allowed, subject \"{}\"\n", decision.session.subject);
    for (const auto& [name, value] : decision.session.header) fmt::print("  header {}: {}\n", name, value);
    return 0;
  }
  fmt::print("decision: denied with status {}\n", decision.response.status);
  for (const auto& [name, value] : decision.response.headers) fmt::print("  header {}: {}\n", name, value);
  if (!decision.response.body.empty()) fmt::print("  body: {}\n", decision.response.body);
  return 3;
}

}  // namespace gh::app
