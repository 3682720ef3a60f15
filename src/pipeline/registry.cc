#include "pipeline/registry.h"

#include "pipeline/authn/client_credentials.h"
#include "pipeline/authn/introspection.h"
#include "pipeline/authn/jwt.h"
#include "pipeline/authn/session_store.h"
#include "pipeline/authn/simple.h"
#include "pipeline/authz/simple.h"
#include "pipeline/errors/handlers.h"
#include "pipeline/mutate/header.h"
#include "pipeline/mutate/noop.h"

namespace gh::pipeline {

const Registry& Registry::builtin() {
  static const Registry registry = [] {
    Registry r;
    r.authenticators["noop"] = authn::make_noop;
    r.authenticators["anonymous"] = authn::make_anonymous;
    r.authenticators["unauthorized"] = authn::make_unauthorized;
    r.authenticators["jwt"] = authn::make_jwt;
    r.authenticators["cookie_session"] = authn::make_cookie_session;
    r.authenticators["bearer_token"] = authn::make_bearer_token;
    r.authenticators["oauth2_introspection"] = authn::make_introspection;
    r.authenticators["oauth2_client_credentials"] = authn::make_client_credentials;
    r.authorizers["allow"] = authz::make_allow;
    r.authorizers["deny"] = authz::make_deny;
    r.mutators["noop"] = mutate::make_noop;
    r.mutators["header"] = mutate::make_header;
    r.error_handlers["json"] = errors::make_json;
    r.error_handlers["redirect"] = errors::make_redirect;
    r.error_handlers["www_authenticate"] = errors::make_www_authenticate;
    return r;
  }();
  return registry;
}

}  // namespace gh::pipeline
