// async_run_blocking: runs a blocking function on a worker pool and awaits it from an Asio
// coroutine without blocking the caller's executor, cancellable at any time (the blocking call
// itself runs to its end on the worker; its result is then discarded).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace scout::tools {

namespace asio = boost::asio;

// Runs `fn` on `worker` and completes with void(error_code, optional<R>) on the handler's own
// executor: with the value when fn returns, or with operation_aborted (and no value) as soon as
// the handler's cancellation slot fires, whichever comes first.
//
// Both completion paths are posted to the handler's executor and the first one wins (the atomic
// flag), so the slot is only touched from that executor, and never from inside its own handler.
// The work guard is held until fn has returned, even after a cancellation has completed the
// operation: the worker's final post must find the handler's executor still alive.
template <class Fn, class Token>
auto async_run_blocking(asio::thread_pool::executor_type worker, Fn fn, Token&& token) {
  using R = std::invoke_result_t<Fn&>;
  using Signature = void(boost::system::error_code, std::optional<R>);
  return asio::async_initiate<Token, Signature>(
      [](auto handler, asio::thread_pool::executor_type worker, Fn fn) {
        using Handler = decltype(handler);
        auto io_ex = asio::get_associated_executor(handler);
        auto cancel_slot = asio::get_associated_cancellation_slot(handler);

        struct State {
          Handler handler;
          asio::executor_work_guard<decltype(io_ex)> work;
          decltype(cancel_slot) slot;
          std::atomic<bool> done{false};
        };
        // Braces, not make_shared: make_shared needs C++20's parenthesized aggregate
        // initialization, which clang 14 (the fuzz preset's compiler) lacks.
        auto state = std::shared_ptr<State>(new State{std::move(handler), asio::make_work_guard(io_ex), cancel_slot});

        auto finish = [](const std::shared_ptr<State>& s, boost::system::error_code ec, std::optional<R> value) {
          if (s->done.exchange(true)) return;
          if (s->slot.is_connected()) s->slot.clear();
          Handler h = std::move(s->handler);
          std::move(h)(ec, std::move(value));
        };

        if (cancel_slot.is_connected()) {
          cancel_slot.assign([state, io_ex, finish](asio::cancellation_type type) {
            if (type == asio::cancellation_type::none) return;
            asio::post(io_ex, [state, finish] { finish(state, asio::error::operation_aborted, std::nullopt); });
          });
        }
        asio::post(worker, [state, io_ex, finish, fn = std::move(fn)]() mutable {
          std::optional<R> value(fn());
          asio::post(io_ex, [state, finish, value = std::move(value)]() mutable {
            finish(state, {}, std::move(value));
            state->work.reset();
          });
        });
      },
      token, worker, std::move(fn));
}

}  // namespace scout::tools
