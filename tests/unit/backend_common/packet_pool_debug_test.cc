// Built with assertions on whatever the build type (see meson.build), so
// the debug-only double-free check is exercised in release builds too.
#include <gtest/gtest.h>

#include "backends/common/packet_pool.h"

namespace dpdkudp {
namespace {

#ifdef NDEBUG
#error "this test must be compiled without NDEBUG"
#endif

TEST(PacketPoolDebugDeathTest, DoubleFreeAsserts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        PacketPool pool({4, 256, 0});
        Packet* pkt = pool.alloc_one();
        pool.free_one(pkt);
        pool.free_one(pkt);
      },
      "double free");
}

TEST(PacketPoolDebugDeathTest, ForeignPacketAsserts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        PacketPool pool({4, 256, 0});
        Packet outside;
        pool.free_one(&outside);
      },
      "another pool");
}

TEST(PacketPoolDebug, AllocFreeCyclesStayQuiet) {
  PacketPool pool({4, 256, 0});
  for (int i = 0; i < 100; ++i) {
    Packet* pkt = pool.alloc_one();
    ASSERT_NE(pkt, nullptr);
    pool.free_one(pkt);
  }
  EXPECT_EQ(pool.available(), 4u);
}

}  // namespace
}  // namespace dpdkudp
