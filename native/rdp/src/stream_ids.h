// Server-side stream indices: the lowest free one is handed out and given back after `end`.
#ifndef GATEHOUSE_RDP_STREAM_IDS_H_
#define GATEHOUSE_RDP_STREAM_IDS_H_

#include <bitset>

namespace gatehouse::rdp {

class StreamIds {
 public:
  static constexpr int kFirst = 1;
  static constexpr int kCount = 512;
  // -1 when all are in use.
  int alloc() {
    for (int i = 0; i < kCount; i++) {
      if (!used_[static_cast<size_t>(i)]) {
        used_[static_cast<size_t>(i)] = true;
        return kFirst + i;
      }
    }
    return -1;
  }
  void free(int index) {
    int i = index - kFirst;
    if (i >= 0 && i < kCount) used_[static_cast<size_t>(i)] = false;
  }

 private:
  std::bitset<kCount> used_;
};

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_STREAM_IDS_H_
