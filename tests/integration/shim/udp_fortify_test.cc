// The _FORTIFY_SOURCE entry points. This file alone is compiled with
// -D_FORTIFY_SOURCE=2 -O2 (see meson.build): glibc then turns recv, recvfrom,
// read, poll and ppoll on buffers of known size and a length not known at
// compile time into __recv_chk, __recvfrom_chk, __read_chk, __poll_chk and
// __ppoll_chk -- calls a shim must interpose too, or a hardened distribution
// binary bypasses it. posix.sh checks with `nm -D` that the test binary
// imports them. (Built with clang, which glibc 2.36 does not route this way,
// the file calls the same entry points explicitly.)
#if !defined(_FORTIFY_SOURCE) || _FORTIFY_SOURCE < 2 || !defined(__OPTIMIZE__)
#error "udp_fortify_test.cc must be compiled with -D_FORTIFY_SOURCE=2 and optimisation"
#endif

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "udp_test_util.h"

namespace udptest {
namespace {

// A length the compiler cannot see through, so glibc takes the _chk path
// (a constant length within the buffer is left as the plain call).
volatile size_t g_zero = 0;
size_t opaque(size_t n) { return n + g_zero; }

#if defined(__clang__)
// With glibc 2.36, clang does not route these calls through the fortify
// wrappers; call the entry points themselves, which is what a GCC-built
// hardened binary ends up calling.
extern "C" {
ssize_t __recv_chk(int fd, void* buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void* buf, size_t n, size_t buflen, int flags, sockaddr* addr, socklen_t* addrlen);
ssize_t __read_chk(int fd, void* buf, size_t n, size_t buflen);
int __poll_chk(pollfd* fds, nfds_t nfds, int timeout, size_t fdslen);
int __ppoll_chk(pollfd* fds, nfds_t nfds, const timespec* timeout, const sigset_t* ss, size_t fdslen);
}
#define FORTIFIED_RECV(fd, buf, n, flags) __recv_chk(fd, buf, n, sizeof(buf), flags)
#define FORTIFIED_RECVFROM(fd, buf, n, flags, a, l) __recvfrom_chk(fd, buf, n, sizeof(buf), flags, a, l)
#define FORTIFIED_READ(fd, buf, n) __read_chk(fd, buf, n, sizeof(buf))
#define FORTIFIED_POLL(fds, n, t) __poll_chk(fds, n, t, sizeof(fds))
#define FORTIFIED_PPOLL(fds, n, t, ss) __ppoll_chk(fds, n, t, ss, sizeof(fds))
#else
#define FORTIFIED_RECV(fd, buf, n, flags) ::recv(fd, buf, n, flags)
#define FORTIFIED_RECVFROM(fd, buf, n, flags, a, l) ::recvfrom(fd, buf, n, flags, a, l)
#define FORTIFIED_READ(fd, buf, n) ::read(fd, buf, n)
#define FORTIFIED_POLL(fds, n, t) ::poll(fds, n, t)
#define FORTIFIED_PPOLL(fds, n, t, ss) ::ppoll(fds, n, t, ss)
#endif

TEST(Fortify, PollChkAndRecvChk) {
  Fd s = udp_socket();
  ASSERT_TRUE(send_to(s.get(), "fortified recv", env().peer));
  pollfd fds[1] = {{s.get(), POLLIN, 0}};
  ASSERT_EQ(FORTIFIED_POLL(fds, opaque(1), kWaitMs), 1);  // __poll_chk
  EXPECT_EQ(fds[0].revents, POLLIN);
  char buf[64];
  ASSERT_EQ(FORTIFIED_RECV(s.get(), buf, opaque(sizeof buf), 0), 14);  // __recv_chk
  EXPECT_EQ(std::string(buf, 14), "fortified recv");
}

TEST(Fortify, PpollChkAndRecvfromChk) {
  Fd s = udp_socket();
  ASSERT_TRUE(send_to(s.get(), "fortified recvfrom", env().peer));
  pollfd fds[1] = {{s.get(), POLLIN, 0}};
  timespec wait{2, 0};
  ASSERT_EQ(FORTIFIED_PPOLL(fds, opaque(1), &wait, nullptr), 1);  // __ppoll_chk
  char buf[64];
  sockaddr_in from{};
  socklen_t len = sizeof from;
  ASSERT_EQ(FORTIFIED_RECVFROM(s.get(), buf, opaque(sizeof buf), 0, sa(&from), &len), 18);  // __recvfrom_chk
  EXPECT_EQ(std::string(buf, 18), "fortified recvfrom");
  EXPECT_TRUE(same_endpoint(from, env().peer)) << to_string(from);
}

TEST(Fortify, ReadChkOnAConnectedSocket) {
  Fd s = udp_socket();
  ASSERT_EQ(connect_to(s.get(), env().peer), 0);
  ASSERT_EQ(::write(s.get(), "fortified read", 14), 14);
  pollfd fds[1] = {{s.get(), POLLIN, 0}};
  ASSERT_EQ(FORTIFIED_POLL(fds, opaque(1), kWaitMs), 1);
  char buf[64];
  ASSERT_EQ(FORTIFIED_READ(s.get(), buf, opaque(sizeof buf)), 14);  // __read_chk
  EXPECT_EQ(std::string(buf, 14), "fortified read");
}

TEST(Fortify, RecvChkTruncatesLikeRecv) {
  Fd s = udp_socket();
  ASSERT_TRUE(send_to(s.get(), "0123456789", env().peer));
  ASSERT_TRUE(readable(s.get()));
  char buf[4];
  EXPECT_EQ(FORTIFIED_RECV(s.get(), buf, opaque(sizeof buf), MSG_TRUNC), 10);
  EXPECT_EQ(std::string(buf, 4), "0123");
}

}  // namespace
}  // namespace udptest
