// Pipeline errors: what went wrong, the status the client gets, and the internal reason.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "http/headers.h"

namespace gh::pipeline {

// A failed step of the pipeline. `message` is the detailed message shown by verbose error
// handlers; the client sees a generic message per status otherwise. `reason` is the cause,
// for logs and verbose bodies. It never contains a credential.
struct Error {
  int status = 500;
  std::string message;
  std::string reason;
  boost::json::object details;
  http::HeaderList headers;  // passed to the client response (e.g. Retry-After on 429)
};

Error unauthorized(std::string reason = {});
Error forbidden(std::string reason = {});
Error not_found(std::string message, std::string reason = {});
Error internal_error(std::string message, std::string reason = {});
Error misconfigured(std::string_view kind, std::string reason);

// The HTTP reason phrase for a status ("Unauthorized").
std::string_view status_text(int status);

// The error's name as used in error handler `when` clauses: the reason phrase lower-cased,
// spaces replaced by '_' and apostrophes dropped ("not_found", "im_a_teapot").
std::string error_name(int status);

}  // namespace gh::pipeline
