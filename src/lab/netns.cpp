#include "lab/netns.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "lab/http_backend.hpp"

namespace anycastd::lab {

namespace {

// Runs `ip ...` and waits; the error names the command.
Status<> ip(std::vector<std::string> args) {
  args.insert(args.begin(), "ip");
  pid_t pid = ::fork();
  if (pid < 0) return Err(std::string("fork failed"));
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) ::dup2(null, 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("ip", argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Done{};
  std::string cmd;
  for (const auto& a : args) cmd += (cmd.empty() ? "" : " ") + a;
  return Err("'" + cmd + "' failed");
}

// Enters a namespace on the calling thread only.
bool enter(const std::string& ns) {
  int fd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::setns(fd, CLONE_NEWNET) == 0;
  ::close(fd);
  return ok;
}

sockaddr_in to_sockaddr(const IpAddress& a, uint16_t port) {
  sockaddr_in s{};
  s.sin_family = AF_INET;
  s.sin_port = htons(port);
  s.sin_addr.s_addr = htonl(a.v4_value());
  return s;
}

}  // namespace

Netns::Netns() : prefix_("acl" + std::to_string(::getpid()) + "-") {}

Netns::~Netns() {
  for (auto it = made_.rbegin(); it != made_.rend(); ++it) (void)ip({"netns", "del", *it});
}

// Namespaces outlive a lab killed by a signal (no destructor runs, and the kernel keeps a
// mounted namespace alive). Each lab's names carry its PID, so one whose lab is gone is
// stale: removing it here keeps a killed run from leaking into the next.
size_t Netns::remove_stale() {
  size_t removed = 0;
  DIR* d = ::opendir("/run/netns");
  if (!d) return 0;
  std::vector<std::string> stale;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind("acl", 0) != 0) continue;
    auto dash = name.find('-');
    if (dash == std::string::npos || dash == 3) continue;
    std::string digits = name.substr(3, dash - 3);
    if (digits.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(digits));
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    stale.push_back(name);
  }
  ::closedir(d);
  for (const auto& name : stale) removed += ip({"netns", "del", name}).ok();
  return removed;
}

Status<> Netns::create_fabric() {
  remove_stale();
  std::string br = prefix_ + "br";
  if (auto r = ip({"netns", "add", br}); !r) return r;
  made_.push_back(br);
  for (auto args :
       std::vector<std::vector<std::string>>{{"-n", br, "link", "set", "lo", "up"},
                                             {"-n", br, "link", "add", "br0", "type", "bridge"},
                                             {"-n", br, "link", "set", "br0", "up"}})
    if (auto r = ip(args); !r) return r;
  return Done{};
}

Result<std::string, std::string> Netns::add(const std::string& device, const IpAddress& address,
                                            bool forward) {
  std::string ns = prefix_ + std::to_string(next_);
  std::string port = "v" + std::to_string(next_++);
  if (auto r = ip({"netns", "add", ns}); !r) return Err(device + ": " + r.error());
  made_.push_back(ns);
  std::string br = prefix_ + "br";
  for (auto args : std::vector<std::vector<std::string>>{
           {"-n", ns, "link", "set", "lo", "up"},
           {"link", "add", port, "netns", br, "type", "veth", "peer", "name", "eth0", "netns", ns},
           {"-n", br, "link", "set", port, "master", "br0", "up"},
           {"-n", ns, "addr", "add", address.to_string() + "/16", "dev", "eth0"},
           {"-n", ns, "link", "set", "eth0", "up"}})
    if (auto r = ip(args); !r) return Err(device + ": " + r.error());
  // One segment stands for many separate links, so a router forwarding back out of eth0
  // would send ICMP redirects, and a host taking them would go straight to the next hop
  // (or ARP for the VIP itself), past every routing decision the lab is there to show.
  std::vector<std::string> args{"netns", "exec", ns, "sysctl", "-qw"};
  for (const char* conf : {"all", "default", "eth0"})
    for (const char* key : {"send_redirects", "accept_redirects"})
      args.push_back(std::string("net.ipv4.conf.") + conf + "." + key + "=0");
  // Equal routes share flows by the 5-tuple, as the lab's routers do, not by addresses only.
  if (forward)
    for (const char* sysctl : {"net.ipv4.ip_forward=1", "net.ipv4.fib_multipath_hash_policy=1"})
      args.push_back(sysctl);
  if (auto r = ip(args); !r) return Err(device + ": " + r.error());
  return ns;
}

Status<> Netns::add_local(const std::string& ns, const IpAddress& a) {
  return ip({"-n", ns, "addr", "add", a.to_string() + "/32", "dev", "lo"});
}

Status<> Netns::default_route(const std::string& ns, const IpAddress& via) {
  return ip({"-n", ns, "route", "add", "default", "via", via.to_string()});
}

NetnsHttpServer::NetnsHttpServer(std::string ns, IpAddress address, uint16_t port,
                                 std::string answer, std::string region)
    : ns_(std::move(ns)),
      answer_(std::move(answer)),
      region_(std::move(region)),
      address_(address),
      port_(port) {}

NetnsHttpServer::~NetnsHttpServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

Status<> NetnsHttpServer::start() {
  std::string err;
  int listener = -1;
  // The socket is made inside the namespace; the thread then serves it.
  std::thread maker([&] {
    if (!enter(ns_)) {
      err = "cannot enter namespace " + ns_;
      return;
    }
    listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    auto sa = to_sockaddr(address_, port_);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        ::listen(listener, 128) != 0) {
      err = "bind " + address_.to_string() + ":" + std::to_string(port_) + ": " +
            std::strerror(errno);
      ::close(listener);
      listener = -1;
    }
  });
  maker.join();
  if (listener < 0) return Err(err);
  thread_ = std::thread([this, listener] { serve(listener); });
  return Done{};
}

// Many connections at once: the NVAs' checks keep an idle "watch" connection open.
void NetnsHttpServer::serve(int listener) {
  std::map<int, std::string> conns;
  while (!stop_) {
    std::vector<pollfd> fds{{listener, POLLIN, 0}};
    for (const auto& [fd, _] : conns) fds.push_back({fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
    if (fds[0].revents & POLLIN)
      for (int c; (c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0;)
        conns[c];
    for (size_t i = 1; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      int fd = fds[i].fd;
      char buf[2048];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        ::close(fd);
        conns.erase(fd);
        continue;
      }
      auto& req = conns[fd];
      req.append(buf, static_cast<size_t>(n));
      if (req.find("\r\n\r\n") == std::string::npos) continue;
      std::string r = lab_http_reply(!failed, answer_, region_);
      (void)::send(fd, r.data(), r.size(), MSG_NOSIGNAL);
      ::close(fd);
      conns.erase(fd);
    }
  }
  for (const auto& [fd, _] : conns) ::close(fd);
  ::close(listener);
}

NetnsReply netns_http_get(const std::string& ns, const IpAddress& to, uint16_t port) {
  NetnsReply out;
  if (!enter(ns)) {
    out.why = "cannot enter namespace " + ns;
    return out;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  auto sa = to_sockaddr(to, port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    out.why = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return out;
  }
  std::string req = "GET / HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n", reply;
  (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) reply.append(buf, static_cast<size_t>(n));
  int recv_errno = n < 0 ? errno : 0;
  ::close(fd);
  auto head = reply.find("\r\n\r\n");
  if (reply.empty() || head == std::string::npos) {
    // A reset is what an NVA that never saw the handshake sends when the route moved
    // mid-connection; say so rather than a bare "no answer".
    out.why = recv_errno == ECONNRESET ? "connection reset by peer (the route moved?)"
              : recv_errno             ? std::string("no answer: ") + std::strerror(recv_errno)
                                       : "no answer";
    return out;
  }
  auto status = reply.substr(0, reply.find("\r\n"));
  if (status.find(" 200 ") == std::string::npos) {
    out.why = status;
    return out;
  }
  auto h = reply.find("X-Lab-Region: ");
  if (h != std::string::npos && h < head) {
    auto end = reply.find("\r\n", h);
    out.region = reply.substr(h + 14, end - h - 14);
  }
  out.answer = reply.substr(head + 4);
  out.ok = true;
  return out;
}

}  // namespace anycastd::lab
