// Splits a batch of activation rows into groups of a compile-time size for the GEMM tile
// kernels: each group size gets its own fully unrolled code (the accumulators live in
// registers), so the remainder after the full groups is dispatched to the matching size.
// Internal linkage only: included by gemm_*_vnni.cpp, which are compiled with the same -m flags
// (see simd_x86.h for why code shared between different flags must not be inline-external).
#pragma once

#include <type_traits>

namespace scout::cpu {
namespace {

template <int kSize, class Group>
void token_group_remainder(int left, int first, Group& group) {
  if constexpr (kSize > 0) {
    if (left == kSize) {
      group(std::integral_constant<int, kSize>{}, first);
    } else {
      token_group_remainder<kSize - 1>(left, first, group);
    }
  }
}

// Calls group(std::integral_constant<int, size>{}, first_row) for rows [0, n) in groups of
// kMax, the last group holding what is left.
template <int kMax, class Group>
void for_token_groups(int n, Group&& group) {
  int first = 0;
  for (; first + kMax <= n; first += kMax) group(std::integral_constant<int, kMax>{}, first);
  token_group_remainder<kMax - 1>(n - first, first, group);
}

}  // namespace
}  // namespace scout::cpu
