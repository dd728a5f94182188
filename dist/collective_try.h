#pragma once
// Errors that some ranks see and others do not (a shard file only one rank reads), turned into
// the same exception on every rank.

#include <functional>

#include "dist/communicator.h"

namespace recsys::dist {

// COLLECTIVE. Runs body on every rank. When body throws on one or more ranks, every rank throws
// recsys::Error carrying the message of the lowest failing rank (prefixed "rank R: " when there
// are several ranks), so that no rank goes on into a collective that a failed rank will never
// join. body must not call collectives itself.
void CollectiveTry(Communicator& comm, const std::function<void()>& body);

}  // namespace recsys::dist
