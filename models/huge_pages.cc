#include "models/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>

#include "core/error.h"

namespace recsys::models {

namespace {

bool WantsHugePages(const torch::Tensor& t) {
  return t.is_cpu() && t.numel() * static_cast<int64_t>(t.element_size()) >= kHugePageMinBytes;
}

}  // namespace

torch::Tensor ZerosOnHugePages(const torch::Tensor& like) {
  if (!WantsHugePages(like)) return torch::zeros_like(like);
  const auto bytes = static_cast<size_t>(like.numel()) * like.element_size();
  // Huge pages need 2 MiB-aligned memory: map one page more and start at the first boundary.
  // A fresh anonymous mapping reads as zeros.
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const size_t length = (bytes + kHuge - 1) / kHuge * kHuge + kHuge;
  void* mapped = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  RECSYS_CHECK(mapped != MAP_FAILED,
               "cannot map " << length << " bytes for a " << like.sizes() << " table");
  auto* aligned =
      reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(mapped) + kHuge - 1) / kHuge * kHuge);
  madvise(aligned, length - kHuge, MADV_HUGEPAGE);  // advice only: failure leaves 4 KiB pages
  return torch::from_blob(
      aligned, like.sizes(), [mapped, length](void*) { munmap(mapped, length); }, like.options());
}

torch::Tensor CopyToHugePages(const torch::Tensor& t) {
  if (!WantsHugePages(t)) return t;
  torch::Tensor out = ZerosOnHugePages(t);
  torch::NoGradGuard no_grad;
  out.copy_(t);
  return out;
}

}  // namespace recsys::models
