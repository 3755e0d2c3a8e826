// Boost.Asio as the program under test: ip::udp::socket async_receive_from
// and async_send_to on an io_context (Asio's reactor registers sockets
// edge-triggered in epoll and reads speculatively). A server that echoes
// and a client that checks every echo (loop_common.h has the command line).
// An ordinary Asio program: it links nothing of the project's.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/version.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "loop_common.h"

namespace asio = boost::asio;
using asio::ip::udp;
using boost::system::error_code;

namespace {

class Server {
 public:
  Server(asio::io_context& io, const loops::Args& a)
      : socket_(io, udp::endpoint(udp::v4(), static_cast<unsigned short>(a.port))), signals_(io, SIGTERM), life_(io) {
    signals_.async_wait([this](const error_code&, int) { stop(); });
    life_.expires_after(std::chrono::milliseconds(static_cast<long>(a.lifetime_s * 1000)));
    life_.async_wait([this](const error_code& ec) {
      if (!ec) stop();
    });
    receive();
  }
  long echoed() const { return echoed_; }

 private:
  void receive() {
    socket_.async_receive_from(asio::buffer(buf_), from_, [this](const error_code& ec, size_t n) {
      if (ec) {
        if (ec != asio::error::operation_aborted) {
          std::fprintf(stderr, "loop_asio: receive: %s\n", ec.message().c_str());
        }
        return;
      }
      // The echo owns its bytes until sent; the endpoint is copied by the operation.
      auto data = std::make_shared<std::string>(buf_.data(), n);
      socket_.async_send_to(asio::buffer(*data), from_, [data](const error_code& sec, size_t) {
        if (sec) std::fprintf(stderr, "loop_asio: send: %s\n", sec.message().c_str());
      });
      ++echoed_;
      receive();
    });
  }
  void stop() {
    error_code ignored;
    socket_.close(ignored);
    signals_.cancel(ignored);
    life_.cancel();
  }

  udp::socket socket_;
  asio::signal_set signals_;
  asio::steady_timer life_;
  std::array<char, 65536> buf_{};
  udp::endpoint from_;
  long echoed_ = 0;
};

class Client {
 public:
  Client(asio::io_context& io, const loops::Args& a)
      : socket_(io, udp::endpoint(udp::v4(), 0)),
        server_(asio::ip::make_address_v4(a.host), static_cast<unsigned short>(a.port)),
        timer_(io),
        client_(a.count, a.window) {
    receive();
    send_window();
  }
  int status() const { return status_; }

 private:
  void send_window() {
    if (client_.past_deadline()) {
      fail("deadline passed after " + std::to_string(client_.received()) + " echoes");
      return;
    }
    for (std::string& p : client_.next_window()) {
      auto data = std::make_shared<std::string>(std::move(p));
      socket_.async_send_to(asio::buffer(*data), server_, [this, data](const error_code& ec, size_t n) {
        if (ec || n != data->size()) fail("send: " + ec.message());
      });
    }
    timer_.expires_after(std::chrono::milliseconds(loops::kWindowTimeoutMs));  // cancels the last window's wait
    timer_.async_wait([this](const error_code& ec) {
      if (!ec) fail("no echo of datagram(s) " + client_.missing() + " within 1 s");
    });
  }
  void receive() {
    socket_.async_receive_from(asio::buffer(buf_), from_, [this](const error_code& ec, size_t n) {
      if (ec) {
        if (ec != asio::error::operation_aborted) fail("receive: " + ec.message());
        return;
      }
      const std::string why = client_.accept(std::string_view(buf_.data(), n));
      if (!why.empty()) {
        fail(why);
        return;
      }
      if (client_.finished()) {
        std::printf("client: %u datagrams intact in %.2f s\n", client_.received(), client_.elapsed_s());
        status_ = 0;
        done();
        return;
      }
      if (client_.window_done()) send_window();
      receive();
    });
  }
  void fail(const std::string& why) {
    if (stopped_) return;
    std::fprintf(stderr, "loop_asio: %s\n", why.c_str());
    status_ = 1;
    done();
  }
  void done() {
    stopped_ = true;
    error_code ignored;
    socket_.close(ignored);
    timer_.cancel();
  }

  udp::socket socket_;
  udp::endpoint server_;
  asio::steady_timer timer_;
  loops::Client client_;
  std::array<char, 2048> buf_{};
  udp::endpoint from_;
  int status_ = 1;
  bool stopped_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  const auto args = loops::parse_args(argc, argv);
  if (!args) return loops::usage("loop_asio");
  try {
    asio::io_context io;
    if (args->server) {
      Server server(io, *args);
      std::printf("ready asio %d.%d\n", BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000);
      std::fflush(stdout);
      io.run();
      std::printf("echoed %ld\n", server.echoed());
      return 0;
    }
    Client client(io, *args);
    io.run();
    return client.status();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loop_asio: %s\n", e.what());
    return 1;
  }
}
