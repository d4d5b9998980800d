#pragma once
// `--log-format json`: one JSON object per line for log shippers, {"time", "level", "msg"},
// with the message escaped as JSON strings require.
#include <spdlog/formatter.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace anycastd {

class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& m, spdlog::memory_buf_t& dest) override {
    auto t = std::chrono::system_clock::to_time_t(m.time);
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(m.time.time_since_epoch()) % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char head[96];
    int n = std::snprintf(head, sizeof head,
                          "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\",\"level\":\"",
                          tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                          tm.tm_sec, static_cast<int>(ms.count()));
    dest.append(head, head + n);
    auto level = spdlog::level::to_string_view(m.level);
    dest.append(level.data(), level.data() + level.size());
    append(dest, "\",\"msg\":\"");
    for (char c : m.payload) {
      switch (c) {
        case '"':
          append(dest, "\\\"");
          break;
        case '\\':
          append(dest, "\\\\");
          break;
        case '\n':
          append(dest, "\\n");
          break;
        case '\t':
          append(dest, "\\t");
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char u[8];
            std::snprintf(u, sizeof u, "\\u%04x", c);
            append(dest, u);
          } else {
            dest.push_back(c);
          }
      }
    }
    append(dest, "\"}\n");
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLogFormatter>();
  }

 private:
  static void append(spdlog::memory_buf_t& d, const char* s) {
    while (*s) d.push_back(*s++);
  }
};

}  // namespace anycastd
