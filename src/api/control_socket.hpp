#pragma once
// The control socket: a Unix stream socket where each connection sends one JSON request
// on one line and gets one JSON answer on one line. Mode 0600 unless configured.
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace anycastd::rt {
class AsioLoop;
}

namespace anycastd::api {

class ControlSocket {
 public:
  using Handler = std::function<nlohmann::json(const nlohmann::json&)>;
  // Replaces a stale socket file left by a dead daemon, but not one a live daemon answers on.
  static Result<std::unique_ptr<ControlSocket>, std::string> open(rt::AsioLoop& loop,
                                                                  const std::string& path,
                                                                  unsigned mode, Handler h);
  ~ControlSocket();  // removes the socket file

  // What the socket answers to the bytes a client sent: the request is the first line
  // (framing), parsed as JSON and handed to h. Any bytes get one line of JSON with "ok";
  // an exception out of h is counted and logged (internal_errors) and answered as an error.
  static std::string answer_line(const Handler& h, std::string_view received);

 private:
  struct State;
  explicit ControlSocket(std::shared_ptr<State> s) : state_(std::move(s)) {}
  std::shared_ptr<State> state_;
};

}  // namespace anycastd::api
