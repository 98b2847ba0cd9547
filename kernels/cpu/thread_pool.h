// A fixed pool of worker threads for the CPU ops: run(fn) calls fn(thread_index) on every
// thread (the caller is thread 0) and returns when all are done.
//
// A decode step calls the pool hundreds of times per token (several ops per layer), so a call
// must cost microseconds: workers spin on a generation counter for a short while after each
// job before they sleep (std::atomic::wait), and the caller spins for completion.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace scout {

class ThreadPool {
 public:
  // n_threads >= 1, counting the calling thread.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(i) for i in [0, size()) concurrently, one per thread; returns when all returned.
  // Not reentrant: fn must not call run() on the same pool.
  void run(const std::function<void(int)>& fn);

  // Splits [0, n) into chunks of `grain` claimed dynamically by the threads (so a thread slowed
  // by another process does not hold everyone up), calling fn(begin, end, thread).
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t, int)>& fn);

 private:
  void worker(int index);

  int n_threads_;
  std::vector<std::thread> threads_;
  const std::function<void(int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace scout
