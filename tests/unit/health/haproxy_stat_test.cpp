#include "health/haproxy_stat.hpp"

#include <gtest/gtest.h>

using namespace anycastd::health;

namespace {
// The head of HAProxy 2.6's `show stat`, columns cut after `status` plus one more.
const char* kStat =
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,"
    "wredis,status,weight,\n"
    "fe,FRONTEND,,,0,1,4096,3,0,0,0,0,0,,,,,OPEN,,\n"
    "web,weu-1,0,0,0,1,,3,0,0,,0,,0,0,0,0,UP,1,\n"
    "web,weu-2,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN 1/2,1,\n"
    "web,weu-3,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1,\n"
    "web,BACKEND,0,0,0,1,410,3,0,0,0,0,,0,0,0,0,UP,1,\n"
    "\n";
}  // namespace

TEST(HaproxyStat, FindsTheRowByBackendAndServer) {
  EXPECT_EQ(haproxy_status(kStat, "web", "weu-1"), "UP");
  EXPECT_EQ(haproxy_status(kStat, "web", "weu-2"), "DOWN 1/2");
  EXPECT_EQ(haproxy_status(kStat, "web", "BACKEND"), "UP");
  EXPECT_EQ(haproxy_status(kStat, "fe", "FRONTEND"), "OPEN");
  EXPECT_FALSE(haproxy_status(kStat, "web", "weu-9"));
  EXPECT_FALSE(haproxy_status(kStat, "weu-1", "web")) << "columns are not interchangeable";
}

TEST(HaproxyStat, NeedsTheHeaderToKnowTheColumns) {
  EXPECT_FALSE(haproxy_status("web,weu-1,0,UP\n", "web", "weu-1"));
  EXPECT_FALSE(haproxy_status("Unknown command\n", "web", "weu-1"));
  EXPECT_EQ(haproxy_status("# svname,status,pxname\r\nweu-1,UP,web\r\n", "web", "weu-1"), "UP");
}

TEST(HaproxyStat, OnlyStatusesThatTakeTrafficCountAsUp) {
  for (const char* s : {"UP", "UP 1/3", "no check", "OPEN"}) EXPECT_TRUE(haproxy_status_up(s)) << s;
  for (const char* s : {"DOWN", "DOWN 1/2", "NOLB", "MAINT", "MAINT (via web/weu-1)", "DRAIN", ""})
    EXPECT_FALSE(haproxy_status_up(s)) << s;
}
