#pragma once
// A backend's web server in the simulator: answers every request on a connection with
// 200 and its region's text, or 503 while the scenario has failed its application, then
// closes -- enough for the real HTTP checks to judge it.
#include <functional>
#include <memory>
#include <string>

#include "runtime/transport.hpp"

namespace anycastd::lab {

// What a lab backend sends back: 200 with its text, or 503 while its application fails;
// X-Lab-Region tells a live client who answered.
inline std::string lab_http_reply(bool ok, const std::string& answer, const std::string& region) {
  std::string body = ok ? answer : "application failed\n";
  return std::string(ok ? "HTTP/1.1 200 OK" : "HTTP/1.1 503 Service Unavailable") +
         "\r\nX-Lab-Region: " + region +
         "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

class HttpConnection : public Stream::Handler {
 public:
  // `region` goes out as an X-Lab-Region header: how a live client knows who answered.
  HttpConnection(Loop& loop, std::unique_ptr<Stream> s, std::string body,
                 std::function<bool()> healthy, std::string region = "")
      : loop_(loop),
        stream_(std::move(s)),
        body_(std::move(body)),
        healthy_(std::move(healthy)),
        region_(std::move(region)) {
    stream_->start(this);
  }
  ~HttpConnection() override {
    if (stream_) stream_->abort();
  }
  bool done() const { return !stream_; }

  void on_data(ByteView data) override {
    request_.append(reinterpret_cast<const char*>(data.data()), data.size());
    if (request_.find("\r\n\r\n") == std::string::npos) return;
    std::string r = lab_http_reply(healthy_(), body_, region_);
    stream_->write(Bytes(reinterpret_cast<const std::byte*>(r.data()),
                         reinterpret_cast<const std::byte*>(r.data()) + r.size()));
    finish();
  }
  void on_closed(const std::string&) override { finish(); }

 private:
  void finish() {
    if (!stream_) return;
    stream_->close();
    destroy_later(loop_, std::move(stream_));
  }

  Loop& loop_;
  std::unique_ptr<Stream> stream_;
  std::string body_;
  std::function<bool()> healthy_;
  std::string region_;
  std::string request_;
};

}  // namespace anycastd::lab
