#pragma once
// The HTTP listener Prometheus scrapes: GET /metrics answers the exposition text, anything
// else 404. One request per connection (Connection: close), as a scrape needs no more.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.hpp"
#include "runtime/transport.hpp"

namespace anycastd::rt {
class AsioLoop;
}

namespace anycastd::api {

class MetricsHttp {
 public:
  // GET /healthz: 200 with the reason while health() says this host should receive
  // traffic, 503 with the reason otherwise (a load balancer's probe).
  using Health = std::function<std::pair<bool, std::string>()>;
  static Result<std::unique_ptr<MetricsHttp>, std::string> open(rt::AsioLoop& loop, Endpoint at,
                                                                std::function<std::string()> body,
                                                                Health health = nullptr);
  ~MetricsHttp();

  // The whole answer to a request head (up to its blank line); body() makes the text.
  static std::string respond(const std::function<std::string()>& body, std::string_view head,
                             const Health& health = nullptr);

 private:
  struct State;
  explicit MetricsHttp(std::shared_ptr<State> s) : state_(std::move(s)) {}
  std::shared_ptr<State> state_;
};

}  // namespace anycastd::api
