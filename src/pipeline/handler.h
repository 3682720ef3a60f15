// The handler interfaces of the access pipeline: authenticators, authorizers, mutators and
// error handlers. Instances are built once per distinct effective config when rules are
// compiled, are immutable afterwards and are shared by every worker thread.
#pragma once

#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "common/expected.h"
#include "pipeline/error.h"
#include "pipeline/session.h"

namespace gh::pipeline {

// The outcome of one authenticator: it authenticated the request, it does not handle this
// kind of credential (the chain moves on), or it handled it and the credential failed.
class AuthnResult {
 public:
  static AuthnResult authenticated() { return AuthnResult(Kind::authenticated, std::nullopt); }
  static AuthnResult not_responsible() { return AuthnResult(Kind::not_responsible, std::nullopt); }
  static AuthnResult failed(Error error) { return AuthnResult(Kind::failed, std::move(error)); }

  bool is_authenticated() const { return kind_ == Kind::authenticated; }
  bool is_not_responsible() const { return kind_ == Kind::not_responsible; }
  bool is_failed() const { return kind_ == Kind::failed; }
  const Error& error() const { return *error_; }

 private:
  enum class Kind { authenticated, not_responsible, failed };
  AuthnResult(Kind kind, std::optional<Error> error) : kind_(kind), error_(std::move(error)) {}
  Kind kind_;
  std::optional<Error> error_;
};

using StepResult = Expected<void, Error>;

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual boost::asio::awaitable<AuthnResult> authenticate(const Request& request,
                                                           Session& session) const = 0;
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  virtual boost::asio::awaitable<StepResult> authorize(const Request& request,
                                                       Session& session) const = 0;
};

class Mutator {
 public:
  virtual ~Mutator() = default;
  virtual boost::asio::awaitable<StepResult> mutate(const Request& request,
                                                    Session& session) const = 0;
};

// An error rendered for the client.
struct ErrorResponse {
  int status = 500;
  http::HeaderList headers;
  std::string content_type;
  std::string body;
};

class ErrorHandler {
 public:
  virtual ~ErrorHandler() = default;
  // True when this handler's `when` conditions select it for this error and request.
  virtual bool responsible(const Request& request, const Error& error) const = 0;
  virtual ErrorResponse render(const Request& request, const Error& error) const = 0;
};

}  // namespace gh::pipeline
