#include "models/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>

#include "core/error.h"

namespace recsys::models {

torch::Tensor CopyToHugePages(const torch::Tensor& t) {
  const int64_t bytes = t.numel() * static_cast<int64_t>(t.element_size());
  if (!t.is_cpu() || bytes < kHugePageMinBytes) return t;
  // Huge pages need 2 MiB-aligned memory: map one page more and start at the first boundary.
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const size_t length = (static_cast<size_t>(bytes) + kHuge - 1) / kHuge * kHuge + kHuge;
  void* mapped = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  RECSYS_CHECK(mapped != MAP_FAILED,
               "cannot map " << length << " bytes for a " << t.sizes() << " table");
  auto* aligned =
      reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(mapped) + kHuge - 1) / kHuge * kHuge);
  madvise(aligned, length - kHuge, MADV_HUGEPAGE);  // advice only: failure leaves 4 KiB pages
  torch::Tensor out = torch::from_blob(
      aligned, t.sizes(), [mapped, length](void*) { munmap(mapped, length); }, t.options());
  torch::NoGradGuard no_grad;
  out.copy_(t);
  return out;
}

}  // namespace recsys::models
