// The kernel's capability sets (capget(2), capset(2)): glibc exports the
// two calls but no header declares them.
#include <linux/capability.h>

int capget(cap_user_header_t header, cap_user_data_t data);
int capset(cap_user_header_t header, const cap_user_data_t data);
