// The HTTP request handlers of the token service's public and admin listeners. They read
// and bound the request, hand the parsed parts to TokenService on the blocking-call pool,
// and write the response; no storage or hashing runs on an HTTP worker thread.
#pragma once

#include <memory>

#include <boost/asio/thread_pool.hpp>

#include "http/server.h"
#include "oauth2/token_service.h"

namespace gh::oauth2 {

// Largest accepted body of a token or revocation request, in bytes. A request with a
// client assertion signed by a 4096-bit RSA key stays under 4 KiB.
inline constexpr std::size_t kMaxFormBodyBytes = 64 * 1024;
// Largest accepted admin request body, in bytes: a client with a sizeable JWKS fits.
inline constexpr std::size_t kMaxAdminBodyBytes = 1024 * 1024;

// The name under which Hydra keeps its access-token signing keys; the admin key routes use it.
inline constexpr std::string_view kAccessTokenKeySet = "hydra.jwt.access-token";

std::shared_ptr<http::RequestHandler> make_public_handler(std::shared_ptr<TokenService> service,
                                                          std::shared_ptr<boost::asio::thread_pool> pool);
std::shared_ptr<http::RequestHandler> make_admin_handler(std::shared_ptr<TokenService> service,
                                                         std::shared_ptr<boost::asio::thread_pool> pool);

}  // namespace gh::oauth2
