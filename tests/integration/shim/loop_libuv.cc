// libuv (Node.js's event loop) as the program under test: a uv_udp echo
// server (uv_udp_recv_start, uv_udp_send) and a client that checks every
// echo, see loop_common.h for the command line. --mmsg makes the server
// receive with UV_UDP_RECVMMSG: libuv 1.44 then calls recvmmsg through
// syscall(2), as dig and BIND do. An ordinary libuv program: it links
// nothing of the project's.
#include <netinet/in.h>
#include <signal.h>
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "loop_common.h"

namespace {

// 64 KiB per datagram is what libuv asks for; recvmmsg wants several.
constexpr size_t kMmsgChunks = 8;
constexpr size_t kDgramMax = 64 * 1024;

uv_loop_t* g_loop = nullptr;
uv_udp_t g_udp;
uv_signal_t g_sigterm;
uv_timer_t g_timer;  // server: the lifetime; client: the window's bound
bool g_mmsg = false;
long g_echoed = 0;
int g_status = 1;

void close_all() {
  uv_walk(
      g_loop,
      [](uv_handle_t* h, void*) {
    if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
}

void fail(const std::string& why) {
  std::fprintf(stderr, "loop_libuv: %s\n", why.c_str());
  g_status = 1;
  close_all();
}

void alloc_buffer(uv_handle_t*, size_t suggested, uv_buf_t* buf) {
  const size_t size = g_mmsg ? kMmsgChunks * kDgramMax : suggested;
  buf->base = static_cast<char*>(std::malloc(size));
  buf->len = buf->base != nullptr ? size : 0;
}

// One echo in flight: the request and its copy of the datagram.
struct SendReq {
  uv_udp_send_t req;
  std::string data;
};

void on_server_recv(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* from, unsigned flags) {
  if (nread < 0) {
    fail(std::string("recv: ") + uv_strerror(static_cast<int>(nread)));
  } else if (from != nullptr) {  // nread 0 with an address: an empty datagram
    auto* r = new SendReq;
    r->req.data = r;
    r->data.assign(buf->base, static_cast<size_t>(nread));
    uv_buf_t out = uv_buf_init(r->data.data(), static_cast<unsigned>(r->data.size()));
    const int rc = uv_udp_send(&r->req, h, &out, 1, from, [](uv_udp_send_t* req, int status) {
      if (status != 0) std::fprintf(stderr, "loop_libuv: send: %s\n", uv_strerror(status));
      delete static_cast<SendReq*>(req->data);
    });
    if (rc != 0) {
      std::fprintf(stderr, "loop_libuv: uv_udp_send: %s\n", uv_strerror(rc));
      delete r;
    } else {
      ++g_echoed;
    }
  }
  // With recvmmsg the datagrams share one buffer, freed on the last call.
  if (!(flags & UV_UDP_MMSG_CHUNK)) std::free(buf->base);
}

int run_server(const loops::Args& a) {
  g_mmsg = a.mmsg;
  const unsigned int domain = AF_INET | (a.mmsg ? static_cast<unsigned>(UV_UDP_RECVMMSG) : 0u);
  int rc = uv_udp_init_ex(g_loop, &g_udp, domain);
  sockaddr_in addr{};
  if (rc == 0) rc = uv_ip4_addr("0.0.0.0", a.port, &addr);
  if (rc == 0) rc = uv_udp_bind(&g_udp, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_udp_recv_start(&g_udp, alloc_buffer, on_server_recv);
  if (rc != 0) {
    std::fprintf(stderr, "loop_libuv: server setup: %s\n", uv_strerror(rc));
    return 1;
  }
  if (a.mmsg && uv_udp_using_recvmmsg(&g_udp) == 0) {
    std::fprintf(stderr, "loop_libuv: UV_UDP_RECVMMSG asked for but not in use\n");
    return 1;
  }
  uv_signal_init(g_loop, &g_sigterm);
  uv_signal_start(
      &g_sigterm, [](uv_signal_t*, int) { close_all(); }, SIGTERM);
  uv_timer_init(g_loop, &g_timer);
  uv_timer_start(
      &g_timer, [](uv_timer_t*) { close_all(); }, static_cast<uint64_t>(a.lifetime_s * 1000), 0);
  std::printf("ready libuv %s%s\n", uv_version_string(), a.mmsg ? " recvmmsg" : "");
  std::fflush(stdout);
  uv_run(g_loop, UV_RUN_DEFAULT);
  std::printf("echoed %ld\n", g_echoed);
  return 0;
}

// ---- client -----------------------------------------------------------------

std::unique_ptr<loops::Client> g_client;
sockaddr_in g_server{};

void send_window() {
  if (g_client->past_deadline()) {
    fail("deadline passed after " + std::to_string(g_client->received()) + " echoes");
    return;
  }
  for (std::string& p : g_client->next_window()) {
    auto* r = new SendReq;
    r->req.data = r;
    r->data = std::move(p);
    uv_buf_t out = uv_buf_init(r->data.data(), static_cast<unsigned>(r->data.size()));
    const int rc = uv_udp_send(&r->req, &g_udp, &out, 1, reinterpret_cast<const sockaddr*>(&g_server),
                               [](uv_udp_send_t* req, int status) {
      if (status != 0) fail(std::string("send: ") + uv_strerror(status));
      delete static_cast<SendReq*>(req->data);
    });
    if (rc != 0) {
      delete r;
      fail(std::string("uv_udp_send: ") + uv_strerror(rc));
      return;
    }
  }
  uv_timer_start(
      &g_timer, [](uv_timer_t*) { fail("no echo of datagram(s) " + g_client->missing() + " within 1 s"); },
      loops::kWindowTimeoutMs, 0);
}

void on_client_recv(uv_udp_t*, ssize_t nread, const uv_buf_t* buf, const sockaddr* from, unsigned) {
  if (nread < 0) {
    fail(std::string("recv: ") + uv_strerror(static_cast<int>(nread)));
  } else if (from != nullptr && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&g_udp))) {
    const std::string why = g_client->accept(std::string_view(buf->base, static_cast<size_t>(nread)));
    if (!why.empty()) {
      fail(why);
    } else if (g_client->finished()) {
      std::printf("client: %u datagrams intact in %.2f s\n", g_client->received(), g_client->elapsed_s());
      g_status = 0;
      close_all();
    } else if (g_client->window_done()) {
      send_window();
    }
  }
  std::free(buf->base);
}

int run_client(const loops::Args& a) {
  g_client = std::make_unique<loops::Client>(a.count, a.window);
  int rc = uv_ip4_addr(a.host.c_str(), a.port, &g_server);
  if (rc == 0) rc = uv_udp_init(g_loop, &g_udp);
  if (rc == 0) rc = uv_udp_recv_start(&g_udp, alloc_buffer, on_client_recv);
  if (rc != 0) {
    std::fprintf(stderr, "loop_libuv: client setup: %s\n", uv_strerror(rc));
    return 1;
  }
  uv_timer_init(g_loop, &g_timer);
  send_window();
  uv_run(g_loop, UV_RUN_DEFAULT);
  return g_status;
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = loops::parse_args(argc, argv);
  if (!args) return loops::usage("loop_libuv");
  g_loop = uv_default_loop();
  const int status = args->server ? run_server(*args) : run_client(*args);
  uv_loop_close(g_loop);
  return status;
}
