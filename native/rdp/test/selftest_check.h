// The self-tests' checks: a failed check prints "FAIL: <what>" to stderr; selftest_result() prints
// "<n> failure(s)" (what test/native/rdp-sanitizer-runs.ts looks for) and gives the exit code.
#ifndef GATEHOUSE_RDP_SELFTEST_CHECK_H_
#define GATEHOUSE_RDP_SELFTEST_CHECK_H_

#include <cstdio>
#include <string>

namespace selftest {

inline int failures = 0;
inline bool verbose = false;  // also print "ok: <what>"

inline void check(bool ok, const std::string& what) {
  if (!ok) {
    fprintf(stderr, "FAIL: %s\n", what.c_str());
    failures++;
  } else if (verbose) {
    fprintf(stderr, "ok: %s\n", what.c_str());
  }
}

inline int result() {
  fprintf(stderr, "%d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace selftest

#endif  // GATEHOUSE_RDP_SELFTEST_CHECK_H_
