#include "pipeline/runner.h"

#include <exception>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "pipeline/errors/handlers.h"
#include "telemetry/log.h"

namespace gh::pipeline {
namespace {

// A selection failure inside the error machinery is written directly as JSON with its
// reason, whatever the verbose setting, because no handler exists to render it.
ErrorResponse direct_error(const Request& request, std::string message) {
  Error error = internal_error(std::move(message));
  return ErrorResponse{500, {}, "application/json", errors::json_error_body(&request, error, true)};
}

ErrorResponse render_error(const Snapshot& snapshot, const CompiledRule* rule, const Request& request,
                           const Error& error) {
  const ErrorHandler* chosen = nullptr;
  if (rule != nullptr) {
    for (const NamedErrorHandler& entry : rule->error_handlers) {
      if (!entry.handler->responsible(request, error)) continue;
      if (chosen != nullptr) {
        return direct_error(request,
                            "Found more than one error handlers to be responsible for this request. "
                            "This is a configuration error.");
      }
      chosen = entry.handler.get();
    }
  }
  if (chosen == nullptr) {
    for (const NamedErrorHandler& entry : snapshot.fallback) {
      if (entry.handler->responsible(request, error)) {
        chosen = entry.handler.get();
        break;
      }
    }
  }
  if (chosen == nullptr) {
    return direct_error(request,
                        "Unable to handle HTTP request because no matching error handling strategy "
                        "was found. This is a configuration error.");
  }
  return chosen->render(request, error);
}

std::string rule_ids(const rules::Matcher& matcher, const std::vector<size_t>& indexes) {
  std::string ids;
  for (size_t index : indexes) {
    if (!ids.empty()) ids += ", ";
    ids += fmt::format("\"{}\"", matcher.rules()[index].id);
  }
  return ids;
}

boost::asio::awaitable<std::optional<Error>> run_handlers(const CompiledRule& rule, const Request& request,
                                                          Session& session) {
  bool authenticated = false;
  for (const auto& authenticator : rule.authenticators) {
    AuthnResult result = co_await authenticator->authenticate(request, session);
    if (result.is_not_responsible()) continue;
    if (result.is_failed()) co_return result.error();
    authenticated = true;
    break;
  }
  if (!authenticated) co_return unauthorized("no authenticator was responsible for the request");

  StepResult authorized = co_await rule.authorizer->authorize(request, session);
  if (!authorized) co_return authorized.error();

  for (const auto& mutator : rule.mutators) {
    StepResult mutated = co_await mutator->mutate(request, session);
    if (!mutated) co_return mutated.error();
  }
  co_return std::nullopt;
}

void log_denial(const Request& request, const CompiledRule* rule, const Error& error) {
  // The arguments below build strings, so a denial that the log level drops returns first.
  const auto level = error.status >= 500 ? spdlog::level::warn : spdlog::level::debug;
  if (!spdlog::should_log(level)) return;

  std::string_view rule_id = rule == nullptr ? std::string_view() : std::string_view(rule->rule->id);
  if (error.status >= 500) {
    spdlog::warn("request {} {} failed with {}: {}{}; rule \"{}\"", request.method,
                 telemetry::sanitize_for_log(request.match_url()), error.status, error.message,
                 error.reason.empty() ? "" : " (" + error.reason + ")", rule_id);
  } else {
    spdlog::debug("request {} {} denied with {}: {}{}; rule \"{}\"", request.method,
                  telemetry::sanitize_for_log(request.match_url()), error.status, error.message,
                  error.reason.empty() ? "" : " (" + error.reason + ")", rule_id);
  }
}

}  // namespace

ErrorResponse render_without_rule(const Snapshot& snapshot, const Request& request, const Error& error) {
  return render_error(snapshot, nullptr, request, error);
}

boost::asio::awaitable<Decision> decide(const Snapshot& snapshot, const Request& request) {
  Decision decision;
  std::string url = request.match_url();
  rules::MatchResult match = snapshot.matcher->match(request.method, url);

  if (match.kind == rules::MatchResult::Kind::none) {
    Error error = not_found("Requested url does not match any rules");
    log_denial(request, nullptr, error);
    decision.response = render_error(snapshot, nullptr, request, error);
    co_return decision;
  }
  if (match.kind == rules::MatchResult::Kind::many) {
    Error error = internal_error("Expected exactly one rule but found multiple rules",
                                 "matching rules: " + rule_ids(*snapshot.matcher, match.indexes));
    log_denial(request, nullptr, error);
    decision.response = render_error(snapshot, nullptr, request, error);
    co_return decision;
  }

  const CompiledRule& rule = snapshot.rules[match.index];
  decision.rule = &rule;
  decision.session.match_context.regexp_capture_groups = std::move(match.captures);

  std::optional<Error> failure;
  try {
    failure = co_await run_handlers(rule, request, decision.session);
  } catch (const std::exception& exception) {
    failure = internal_error("An internal error occurred while handling the request", exception.what());
  }
  if (failure) {
    log_denial(request, &rule, *failure);
    decision.response = render_error(snapshot, &rule, request, *failure);
    co_return decision;
  }
  decision.allowed = true;
  co_return decision;
}

}  // namespace gh::pipeline
