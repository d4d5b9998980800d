#pragma once
// The lab's `backend` action is what an NVA's operator would type: `anycastctl backend
// SERVICE BACKEND STATE|weight N`. In sim it goes to the daemon's control API in process,
// live and in netns over the NVA's control socket, so all three run the daemon's own code.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "lab/topology.hpp"

namespace anycastd::lab {

// The endpoint of the lab backend `name`, if the action names one (rather than an address).
std::optional<Endpoint> lab_backend(const Topology& t, const std::string& name);

// The control request, with the backend as the NVA's configuration spells it.
nlohmann::json backend_request(const Action& a, const std::string& backend);

}  // namespace anycastd::lab
