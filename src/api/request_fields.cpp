#include "api/request_fields.hpp"

#include <algorithm>

namespace anycastd::api {

using nlohmann::json;

std::string json_type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "true or false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "a number";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::null:
      return "null";
    default:
      return "binary data";
  }
}

Result<std::optional<std::string>, std::string> optional_string(const json& req,
                                                                std::string_view field) {
  auto it = req.find(field);
  if (it == req.end()) return std::optional<std::string>();
  if (!it->is_string())
    return Err("\"" + std::string(field) + "\" must be a string, got " + json_type_name(*it));
  return std::optional<std::string>(it->get_ref<const std::string&>());
}

Result<std::string, std::string> required_string(const json& req, std::string_view field) {
  auto v = optional_string(req, field);
  if (!v) return Err(v.error());
  if (!*v) return Err("missing \"" + std::string(field) + "\" (a string)");
  return std::move(**v);
}

Result<std::optional<bool>, std::string> optional_bool(const json& req, std::string_view field) {
  auto it = req.find(field);
  if (it == req.end()) return std::optional<bool>();
  if (!it->is_boolean())
    return Err("\"" + std::string(field) + "\" must be true or false, got " + json_type_name(*it));
  return std::optional<bool>(it->get<bool>());
}

Result<std::optional<int64_t>, std::string> optional_integer(const json& req,
                                                             std::string_view field, int64_t min,
                                                             int64_t max) {
  auto it = req.find(field);
  if (it == req.end()) return std::optional<int64_t>();
  const std::string name = "\"" + std::string(field) + "\"";
  if (!it->is_number_integer() && !it->is_number_unsigned())
    return Err(name + " must be a whole number, got " +
               (it->is_number() ? std::string("a fraction") : json_type_name(*it)));
  // Unsigned values above int64's range compare as out of range, not as negative.
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(max))
    return Err(name + " must be " + std::to_string(min) + " to " + std::to_string(max) + ", not " +
               it->dump());
  const auto v = it->get<int64_t>();
  if (v < min || v > max)
    return Err(name + " must be " + std::to_string(min) + " to " + std::to_string(max) + ", not " +
               std::to_string(v));
  return std::optional<int64_t>(v);
}

std::optional<std::string> unknown_field(const json& req, std::string_view command,
                                         std::initializer_list<std::string_view> takes) {
  for (const auto& [key, value] : req.items()) {
    if (key == "command" || std::find(takes.begin(), takes.end(), key) != takes.end()) continue;
    std::string list;
    for (auto t : takes) list += (list.empty() ? "\"" : ", \"") + std::string(t) + "\"";
    return "\"" + std::string(command) + "\" takes no field \"" + key + "\" (" +
           (list.empty() ? std::string("it takes none") : "it takes " + list) + ")";
  }
  return std::nullopt;
}

}  // namespace anycastd::api
