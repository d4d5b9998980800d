#pragma once
// What a reload did: refused (and why), or applied with what changed in each part. The
// daemon fills it in; the control API turns it into the reload command's answer.
#include <string>
#include <vector>

namespace anycastd::api {

struct ReloadReport {
  bool applied = false;
  std::string error;                                   // why nothing changed, when not applied
  std::vector<std::string> added, removed, restarted;  // peers
  std::vector<std::string> vips;                       // VIPs added, removed or changed
  std::vector<std::string> policies_refreshed;         // peers asked for their routes again
  std::vector<std::string> health;                     // checks and VIP health settings
  // Per service whose backends changed: which were added, removed and changed.
  struct Backends {
    std::string service;
    std::vector<std::string> added, removed, changed;
  };
  std::vector<Backends> backends;
};

}  // namespace anycastd::api
