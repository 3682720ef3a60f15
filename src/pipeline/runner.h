// Runs the access pipeline for one request: match a rule, authenticate, authorize, mutate,
// and on failure choose an error handler.
#pragma once

#include <optional>

#include <boost/asio/awaitable.hpp>

#include "pipeline/handler.h"
#include "pipeline/snapshot.h"

namespace gh::pipeline {

struct Decision {
  bool allowed = false;
  const CompiledRule* rule = nullptr;  // set when exactly one rule matched
  Session session;                     // on success: the headers to apply
  ErrorResponse response;              // on failure: what the client gets
};

// Decides `request` against `snapshot`. Never throws for request data; handler exceptions
// are caught and turned into a 500 decision, so an error can never let a request through.
boost::asio::awaitable<Decision> decide(const Snapshot& snapshot, const Request& request);

// Renders an error without a rule (used for failures before matching, like a bad path).
ErrorResponse render_without_rule(const Snapshot& snapshot, const Request& request, const Error& error);

}  // namespace gh::pipeline
