#pragma once
// What the live lab keeps per anycastd process and per backend it serves itself; shared by
// the live lab's source files only.
#include <sys/types.h>

#include <list>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "lab/http_backend.hpp"
#include "lab/live_lab.hpp"

namespace anycastd::lab {

struct LiveLab::Proc {
  std::string name;
  const SimLab::Node* node = nullptr;
  config::Config cfg;
  std::string file, sock, log;
  pid_t pid = -1;
};

struct LiveLab::Backend {
  const SimLab::Node* node = nullptr;
  bool failed = false;
  std::unique_ptr<Listener> listener;
  std::list<std::unique_ptr<HttpConnection>> connections;
};

}  // namespace anycastd::lab
