#include "config/yaml_syntax.hpp"

#include <map>
#include <vector>

namespace anycastd::config {

namespace {

struct Open {
  char c;
  int line, column;  // 1-based
};

// The flow collection ('[' or '{') still open where the parser gave up. yaml-cpp notices
// an unclosed bracket only at the next line's token, so this is where the fault really is.
// Quotes and comments are skipped; a '[' inside a plain scalar (`a [b`) opens nothing.
std::optional<Open> unclosed_flow(const std::string& text, size_t upto) {
  std::vector<Open> stack;
  int line = 1, col = 0;
  char quote = 0;
  bool comment = false, value_start = true;
  for (size_t i = 0; i < text.size() && i < upto; ++i) {
    char c = text[i];
    ++col;
    if (c == '\n') {
      ++line, col = 0, comment = false;
      if (stack.empty()) quote = 0, value_start = true;
      continue;
    }
    if (comment) continue;
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t')) {
      comment = true;
      continue;
    }
    if (c == ' ' || c == '\t') continue;
    if ((c == '"' || c == '\'') && value_start) {
      quote = c;
      value_start = false;
      continue;
    }
    if ((c == '[' || c == '{') && (value_start || !stack.empty())) {
      stack.push_back({c, line, col});
      value_start = true;
      continue;
    }
    if ((c == ']' || c == '}') && !stack.empty()) {
      stack.pop_back();
      value_start = false;
      continue;
    }
    bool sep_next = i + 1 >= text.size() || text[i + 1] == ' ' || text[i + 1] == '\n';
    if (c == ',' && !stack.empty()) {
      value_start = true;
    } else if ((c == ':' || c == '-') && sep_next) {
      value_start = true;
    } else {
      value_start = false;
    }
  }
  if (stack.empty()) return std::nullopt;
  return stack.back();
}

}  // namespace

ConfigError yaml_syntax_error(const std::string& text, const std::string& file,
                              const YAML::Mark& mark, const std::string& msg) {
  static const std::map<std::string, std::string> plain{
      {"illegal block entry", "a '- ' list item where none can start here (check the indentation)"},
      {"end of sequence not found",
       "this line's indentation matches neither the keys nor the list above it"},
      {"end of map not found",
       "this line's indentation matches neither the keys nor the list above it"},
      {"illegal map value",
       "a ': ' where no key can start (check the indentation, or quote a value that holds ': ')"},
      {"end of string not found", "a quoted string that is never closed (expected its quote)"},
  };
  if (auto open = unclosed_flow(text, mark.pos < 0 ? text.size() : size_t(mark.pos))) {
    bool list = open->c == '[';
    return ConfigError{file, open->line, open->column, "",
                       std::string("'") + open->c + "' is never closed: expected " +
                           (list ? "']'" : "'}'") + " after the last " +
                           (list ? "item" : "key: value") + " (yaml: " + msg + ")"};
  }
  auto it = plain.find(msg);
  return ConfigError{file, mark.line + 1, mark.column + 1, "",
                     it == plain.end() ? msg : it->second + " (yaml: " + msg + ")"};
}

}  // namespace anycastd::config
