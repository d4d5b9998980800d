// HAProxy's agent-check answers, word by word: what each means, and what is malformed.
#include "health/agent_reply.hpp"

#include <gtest/gtest.h>

using namespace anycastd::health;

TEST(AgentReply, WordsAndCombinations) {
  auto r = parse_agent_reply("drain 75%\n");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->admin, AgentAdmin::drain);
  EXPECT_EQ(r->weight_percent, 75u);
  EXPECT_FALSE(r->up);
  r = parse_agent_reply("UP,Ready,maxconn:30\r\n");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->up, true);
  EXPECT_EQ(r->admin, AgentAdmin::ready);
  EXPECT_EQ(r->maxconn, 30u);
  r = parse_agent_reply("down#disk full\n");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->up, false);
  EXPECT_EQ(r->why, "disk full");
  EXPECT_EQ(describe(*r), "down #disk full");
  r = parse_agent_reply("stopped\tmaint");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->up, false);
  EXPECT_EQ(r->admin, AgentAdmin::maint);
  r = parse_agent_reply("0%");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->weight_percent, 0u);
  // Only the first line is the answer.
  r = parse_agent_reply("ready\ngarbage here");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->admin, AgentAdmin::ready);
}

TEST(AgentReply, MalformedAnswersSayWhy) {
  EXPECT_EQ(parse_agent_reply("").error(), "no word in the answer");
  EXPECT_EQ(parse_agent_reply(" , \n").error(), "no word in the answer");
  EXPECT_EQ(parse_agent_reply("ready sideways").error(), "unknown word 'sideways'");
  EXPECT_EQ(parse_agent_reply("x%").error(), "'x%' is not a percentage");
  EXPECT_EQ(parse_agent_reply("-5%").error(), "'-5%' is not a percentage");
  EXPECT_EQ(parse_agent_reply("99999999999%").error(), "'99999999999%' is not a percentage");
  EXPECT_EQ(parse_agent_reply("maxconn:").error(), "'maxconn:' is not maxconn:N");
  EXPECT_EQ(parse_agent_reply(std::string("up\0", 3)).error(), "a control character");
}
