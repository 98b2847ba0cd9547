#include "plugins/mcp/stdio_server.h"

#include <array>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace scout::plugins::mcp {

StdioServer::StdioServer(asio::any_io_executor executor, std::shared_ptr<ServerSession> session, int in_fd,
                         int out_fd, StdioServerOptions options)
    : executor_(executor),
      session_(std::move(session)),
      in_(executor, in_fd),
      out_(executor, out_fd),
      options_(std::move(options)),
      framer_(options_.max_line_bytes),
      settled_(executor, asio::steady_timer::time_point::max()) {}

StdioServer::~StdioServer() = default;

void StdioServer::log(const std::string& text) const {
  if (options_.log) options_.log(text);
}

void StdioServer::stop() {
  if (stopping_) return;
  stopping_ = true;
  boost::system::error_code ignored;
  in_.cancel(ignored);
  session_->cancel_all();
}

void StdioServer::send(std::string line) {
  if (output_broken_) return;
  queue_.push_back(std::move(line));
  if (writing_) return;
  writing_ = true;
  asio::co_spawn(executor_, write_queued(), asio::detached);
}

asio::awaitable<void> StdioServer::write_queued() {
  while (!queue_.empty() && !output_broken_) {
    std::string line = std::move(queue_.front()) + "\n";
    queue_.pop_front();
    auto [ec, n] = co_await asio::async_write(out_, asio::buffer(line), asio::as_tuple(asio::use_awaitable));
    (void)n;
    if (ec) {
      // The client has gone: nobody will read the answers, so stop working on them.
      log("cannot write to the client (" + ec.message() + "); cancelling the calls in flight");
      output_broken_ = true;
      queue_.clear();
      stop();
    }
  }
  writing_ = false;
  settled_.cancel();
}

asio::awaitable<void> StdioServer::answer(Request request) {
  auto session = session_;  // the request's coroutine holds the session (see server.h)
  // Named, not a temporary in the co_await: GCC 12 destroys such a temporary twice.
  NotifyFn notify = [this](const Notification& n) { send(serialize(n)); };
  auto response = co_await session->handle_request(std::move(request), std::move(notify));
  if (response) send(serialize(*response));
  --requests_in_flight_;
  settled_.cancel();
}

void StdioServer::dispatch(const std::string& line) {
  auto message = parse_message(line);
  if (!message) {
    send(error_without_id(refusal_code(line), message.error().message));
    return;
  }
  if (auto* request = std::get_if<Request>(&*message)) {
    ++requests_in_flight_;
    asio::co_spawn(executor_, answer(std::move(*request)), asio::detached);
  } else if (auto* notification = std::get_if<Notification>(&*message)) {
    session_->handle_notification(*notification);
  }
  // A response: the server sends no requests, so there is nothing it could answer.
}

asio::awaitable<void> StdioServer::run() {
  std::array<char, 65536> buf;
  while (!stopping_) {
    auto [ec, n] = co_await in_.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec != asio::error::eof && ec != asio::error::operation_aborted) log("reading stdin failed: " + ec.message());
      break;
    }
    for (const auto& line : framer_.feed(std::string_view(buf.data(), n))) dispatch(line);
    if (framer_.failed()) {
      log("the client wrote " + framer_.error() + "; closing");
      send(error_without_id(error_code::invalid_request, "a message longer than the server accepts"));
      stop();
    }
  }
  // Finish what is in flight (cancelled, after stop()), and let every answer reach the output.
  // Subscriptions have no end of their own: the end of input ends them.
  session_->end_subscriptions();
  while (requests_in_flight_ > 0 || writing_) {
    settled_.expires_at(asio::steady_timer::time_point::max());
    co_await settled_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace scout::plugins::mcp
