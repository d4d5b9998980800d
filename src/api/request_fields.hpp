#pragma once
// Typed reads of a control request's fields that never throw: a field of the wrong type is
// an answer for the operator naming the field and both types ("\"view\" must be a string,
// got a number"), never an exception out of the JSON library into the daemon.
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace anycastd::api {

// "a string", "a number", "true or false", "an object", "an array", "null".
std::string json_type_name(const nlohmann::json& j);

// The field's text, nothing when it is absent, or the error naming it.
Result<std::optional<std::string>, std::string> optional_string(const nlohmann::json& req,
                                                                std::string_view field);
Result<std::string, std::string> required_string(const nlohmann::json& req, std::string_view field);

Result<std::optional<bool>, std::string> optional_bool(const nlohmann::json& req,
                                                       std::string_view field);

// The field's whole number within [min, max], nothing when it is absent, or the error.
Result<std::optional<int64_t>, std::string> optional_integer(const nlohmann::json& req,
                                                             std::string_view field, int64_t min,
                                                             int64_t max);

// The first field the command does not take, as an error that lists those it does.
std::optional<std::string> unknown_field(const nlohmann::json& req, std::string_view command,
                                         std::initializer_list<std::string_view> takes);

}  // namespace anycastd::api
