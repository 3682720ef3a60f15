// The error handlers: json, redirect and www_authenticate.
#pragma once

#include <memory>
#include <string>

#include <boost/json.hpp>

#include "common/expected.h"
#include "pipeline/handler.h"

namespace gh::pipeline::errors {

// json: the error as {"error":{"code","status","request","reason","details","message"}}.
// Without `verbose`, errors with status 400, 401, 403, 404, 409, 415, 429 and 500 carry only
// the generic message for their status, so the client learns nothing about the cause.
Expected<std::shared_ptr<const ErrorHandler>, std::string> make_json(const boost::json::object& config);

// redirect: responds with 301 or 302 (default) to `to`, adding the original URL as
// `return_to_query_param` when that is set.
Expected<std::shared_ptr<const ErrorHandler>, std::string> make_redirect(const boost::json::object& config);

// www_authenticate: responds with 401 and `WWW-Authenticate: Basic realm="<realm>"`.
Expected<std::shared_ptr<const ErrorHandler>, std::string> make_www_authenticate(
    const boost::json::object& config);

// The JSON error body, for errors produced outside any handler (no rule matched, handler
// selection failed). `verbose` adds the reason and details.
std::string json_error_body(const Request* request, const Error& error, bool verbose);

}  // namespace gh::pipeline::errors
