// Main-memory read bandwidth, measured: the ceiling for batch-1 decoding, which reads every
// active weight once per token. `scout bench` reports decode speed against it ("decode reaches
// X% of measured bandwidth").
#pragma once

#include <cstddef>

namespace scout {

// Streams through a buffer much larger than the caches with `n_threads` threads (values below 1
// count as 1), each reading its own region of `bytes_per_thread` bytes (allocated and first
// touched by that thread, so it is local to the thread's NUMA node), and returns the best of a
// few repetitions in GB/s (1e9 bytes per second, all threads together). The read is a sum of
// 64-bit words with independent accumulators, which the compiler vectorises at the baseline ISA;
// one core cannot issue loads faster than memory delivers them on any CPU we target, so the
// result is the memory system's figure, not the core's. The buffers ask for transparent huge
// pages (MADV_HUGEPAGE): with 4 KiB pages TLB misses cost a visible share of the rate (about a
// fifth, single-threaded, on the 2-core VM we develop on), so weights read through a 4 KiB-page
// file mapping can fall short of this figure for that reason alone.
//
// Allocates n_threads * bytes_per_thread bytes for the duration of the call (256 MiB per
// thread by default). Returns 0 when the memory cannot be allocated or a thread cannot start.
// Takes roughly 0.1 to 0.5 s. Not meant to run concurrently with other work it is compared to.
double measure_read_bandwidth_gbs(int n_threads, size_t bytes_per_thread = size_t{256} << 20);

}  // namespace scout
