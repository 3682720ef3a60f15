// The request as the pipeline reads it, and the authentication session that handlers fill.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/beast/http/fields.hpp>
#include <boost/json.hpp>

#include "http/headers.h"
#include "text/template.h"

namespace gh::pipeline {

// The request being decided. For the proxy these are the client's values; for the decision
// API they are derived from X-Forwarded-Method, -Proto, -Host and -Uri.
struct Request {
  std::string method;
  std::string scheme;
  std::string host;       // Host header value, port included when present
  std::string path;       // percent-decoded and normalized
  std::string raw_query;  // without '?'
  const boost::beast::http::fields* headers = nullptr;  // inbound headers, never null in use
  std::string remote_address;

  // scheme://host + path, the string access rules are matched against.
  std::string match_url() const { return scheme + "://" + host + path; }
};

struct MatchContext {
  std::vector<std::string> regexp_capture_groups;
};

// The authentication session: what authenticators, authorizers and mutators set for one request.
struct Session {
  std::string subject;
  // The extra data, null until an authenticator sets it. It is immutable and shared, so an
  // authenticator can hand out data that it caches, such as a verified token's claims,
  // without copying it on every request.
  std::shared_ptr<const boost::json::value> extra;
  // Headers to set on the upstream request (proxy) or the decision response (API). Each
  // name appears once; setting a name replaces its value.
  http::HeaderList header;
  MatchContext match_context;

  void set_header(std::string_view name, std::string value);

  // Returns the extra data, or a JSON null when no authenticator set it.
  const boost::json::value& extra_value() const;
  void set_extra(boost::json::value value);
};

// The data that templates see: Subject, Extra, Header and MatchContext (with URL, Method and
// the inbound Header map), in the shape documented in text/template.h.
boost::json::value template_data(const Request& request, const Session& session);

// The same data with only the members that `use` reads, so templates that read the subject
// do not pay for a copy of every request header.
boost::json::value template_data(const Request& request, const Session& session, const text::DataUse& use);

}  // namespace gh::pipeline
