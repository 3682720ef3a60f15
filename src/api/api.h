// The API listener: decision API, rules API, health and version.
#pragma once

#include <atomic>
#include <memory>

#include "http/server.h"
#include "pipeline/snapshot_store.h"

namespace gh::api {

// Creates the request handler of the API listener; /health/ready reports ready once the
// current snapshot holds at least one access rule.
std::shared_ptr<http::RequestHandler> make_api_handler(std::shared_ptr<const pipeline::SnapshotStore> store);

}  // namespace gh::api
