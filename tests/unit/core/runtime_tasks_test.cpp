// run_tasks_on_threads (core/runtime.h): each task once, on threads whose ATen parallelism is off, the caller's grad
// mode, the first exception rethrown, workers kept from one call to the next.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/runtime.h"

namespace lrb {
namespace {

TEST(RunTasksOnThreads, EachTaskOnceOnSingleThreadedWorkers) {
  const int before = at::get_num_threads();
  at::set_num_threads(2);
  std::vector<std::atomic<int>> runs(37);
  std::atomic<int> wide{0};
  std::mutex m;
  std::set<std::thread::id> threads;
  torch::NoGradGuard no_grad;
  std::atomic<int> grad_on{0};
  run_tasks_on_threads(37, 2, [&](int64_t i) {
    ++runs[i];
    if (at::get_num_threads() != 1) ++wide;
    if (torch::GradMode::is_enabled()) ++grad_on;
    std::lock_guard<std::mutex> lock(m);
    threads.insert(std::this_thread::get_id());
  });
  for (int64_t i = 0; i < 37; ++i) EXPECT_EQ(runs[i], 1) << "task " << i;
  EXPECT_EQ(wide, 0) << "a task saw ATen split its ops over threads";
  EXPECT_EQ(grad_on, 0) << "the caller's no-grad mode did not reach the workers";
  EXPECT_FALSE(threads.count(std::this_thread::get_id()));
  EXPECT_EQ(at::get_num_threads(), 2) << "the caller's thread count changed";
  at::set_num_threads(before);
}

TEST(RunTasksOnThreads, OneThreadRunsInOrderHere) {
  const auto caller = std::this_thread::get_id();
  std::vector<int64_t> order;
  run_tasks_on_threads(5, 1, [&](int64_t i) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    order.push_back(i);
  });
  EXPECT_EQ(order, (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

// Every other task takes 1 ms, so once task 3 has thrown the other thread finishes at most the task it holds.
TEST(RunTasksOnThreads, TheFirstExceptionIsRethrownAndStopsTheRest) {
  std::atomic<int> done{0};
  EXPECT_THROW(run_tasks_on_threads(100, 2,
                                    [&](int64_t i) {
                                      if (i == 3) throw std::runtime_error("task 3");
                                      std::this_thread::sleep_for(std::chrono::milliseconds(1));
                                      ++done;
                                    }),
               std::runtime_error);
  EXPECT_LT(done, 20) << "the tasks went on after one failed";
}

// The workers outlive a call: a new thread's first ATen op re-creates ATen's global pthreadpool, so threads started
// per call cost milliseconds each. A thread-local count of tasks (thread ids may be reused, thread-locals are not)
// goes on growing over 20 calls of 8 tasks only on kept workers; on threads started per call it stays at 8 or less.
TEST(RunTasksOnThreads, WorkersAreKeptFromOneCallToTheNext) {
  std::atomic<int> most{0};
  for (int call = 0; call < 20; ++call)
    run_tasks_on_threads(8, 2, [&](int64_t) {
      thread_local int tasks_here = 0;
      const int n = ++tasks_here;
      for (int m = most; n > m && !most.compare_exchange_weak(m, n);) {
      }
    });
  EXPECT_GT(most, 8) << "each call started threads of its own";
}

// Two callers at once: the first holds the kept workers until the second's tasks have all run, which they can only
// do on threads of the second call's own (a second caller that waited for the workers would never finish: the
// first gives up after 10 s and the test fails).
TEST(RunTasksOnThreads, TwoCallersAtOnce) {
  std::atomic<int> first_started{0}, second_done{0};
  std::atomic<bool> first_gave_up{false};
  std::mutex m;
  std::set<std::thread::id> first_threads, second_threads;
  std::thread first([&] {
    run_tasks_on_threads(2, 2, [&](int64_t) {
      {
        std::lock_guard<std::mutex> lock(m);
        first_threads.insert(std::this_thread::get_id());
      }
      ++first_started;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (second_done < 50)
        if (std::chrono::steady_clock::now() > deadline) {
          first_gave_up = true;
          return;
        } else {
          std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
    });
  });
  while (first_started < 2) std::this_thread::sleep_for(std::chrono::microseconds(100));
  run_tasks_on_threads(50, 2, [&](int64_t) {
    {
      std::lock_guard<std::mutex> lock(m);
      second_threads.insert(std::this_thread::get_id());
    }
    ++second_done;
  });
  first.join();
  EXPECT_FALSE(first_gave_up) << "the second caller waited for the first's workers";
  EXPECT_EQ(second_done, 50);
  for (const auto& t : second_threads)
    EXPECT_FALSE(first_threads.count(t)) << "a task of the second call ran on a held worker";
}

}  // namespace
}  // namespace lrb
