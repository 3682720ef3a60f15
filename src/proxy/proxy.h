// The reverse proxy: match a rule, run the pipeline, forward to the rule's upstream.
#pragma once

#include <memory>

#include "http/server.h"
#include "pipeline/snapshot_store.h"

namespace gh::proxy {

// Creates the request handler of the proxy listener. It reads the snapshot from `store` for
// each request.
std::shared_ptr<http::RequestHandler> make_proxy_handler(std::shared_ptr<const pipeline::SnapshotStore> store);

}  // namespace gh::proxy
