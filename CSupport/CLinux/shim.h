// Linux calls glibc exports without a declaration Swift sees (they are
// behind _GNU_SOURCE or in no glibc header): capget(2) and capset(2) with
// the kernel's capability sets, and unshare(2) with the namespace flags.
#include <linux/capability.h>
#include <linux/sched.h>

int capget(cap_user_header_t header, cap_user_data_t data);
int capset(cap_user_header_t header, const cap_user_data_t data);
int unshare(int flags);
