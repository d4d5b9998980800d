#include "proxy/backend_control.hpp"

namespace anycastd::proxy {

const char* to_string(AdminState s) {
  switch (s) {
    case AdminState::drain:
      return "drain";
    case AdminState::maint:
      return "maint";
    case AdminState::ready:
      break;
  }
  return "ready";
}

std::optional<AdminState> admin_state_from(std::string_view text) {
  for (auto s : {AdminState::ready, AdminState::drain, AdminState::maint})
    if (text == to_string(s)) return s;
  return std::nullopt;
}

}  // namespace anycastd::proxy
