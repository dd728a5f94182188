#pragma once
// Stable hashing: the same bytes give the same 64-bit value on every machine, compiler and rank
// (unlike std::hash). Used for feature buckets, data splits and per-item random seeds.

#include <cstdint>
#include <string_view>

namespace recsys {

// SplitMix64 finaliser: a bijection on 64-bit values with full avalanche.
constexpr uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// FNV-1a over the bytes, then Mix64 so that the low bits are usable as a bucket index.
constexpr uint64_t StableHash(std::string_view bytes, uint64_t seed = 0) {
  uint64_t h = 0xcbf29ce484222325ULL ^ Mix64(seed);
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return Mix64(h);
}

// Combines two values into one stable hash (e.g. a seed and an item index).
constexpr uint64_t HashCombine(uint64_t a, uint64_t b) { return Mix64(a ^ Mix64(b)); }

}  // namespace recsys
