// The header mutator: sets upstream request headers from templates over the session.
#pragma once

#include <memory>
#include <string>

#include <boost/json.hpp>

#include "common/expected.h"
#include "pipeline/handler.h"

namespace gh::pipeline::mutate {

// `config.headers` maps header names to templates (text/template.h), compiled here once.
// Each rendered value replaces any value of that header, including one the client sent.
// A name that is not a valid header name, or a template that does not compile, is an error.
Expected<std::shared_ptr<const Mutator>, std::string> make_header(const boost::json::object& config);

}  // namespace gh::pipeline::mutate
