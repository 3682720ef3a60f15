// cookie_session and bearer_token: authenticators that forward the request's credentials
// to a session store and take the subject and extra data from its JSON response.
//
// bearer_token also has an RFC 7662 mode (`introspection.enabled`, a gatehouse extension):
// the token is sent as a form field in a POST body, the way introspection endpoints expect
// it, and the response counts only with `"active": true`.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/json.hpp>

#include "common/expected.h"
#include "pipeline/handler.h"
#include "text/gjson.h"

namespace gh::pipeline::authn {

// Sets `session.subject` and `session.extra` from `document` with the two gjson paths. An
// absent value gives an empty subject or null extra. The error (403, as Oathkeeper) says
// which path found a value of the wrong type: the subject must be a string, and the extra
// data an object or null.
Expected<void, Error> extract_identity(const boost::json::value& document, const text::GjsonPath& subject_from,
                                       const text::GjsonPath& extra_from, Session& session);

Expected<std::shared_ptr<const Authenticator>, std::string> make_cookie_session(const boost::json::object& config);

Expected<std::shared_ptr<const Authenticator>, std::string> make_bearer_token(const boost::json::object& config);

}  // namespace gh::pipeline::authn
