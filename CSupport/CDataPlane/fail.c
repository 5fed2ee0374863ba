/*
 * fail.c — dp_fail, the one way the data plane writes an error for its
 * caller (dataplane.h, "Return values").
 */
#include "dp_internal.h"

#include <stdio.h>

int dp_fail(char *err, size_t errlen, const char *format, ...) {
    if (err != NULL && errlen > 0) {
        va_list args;
        va_start(args, format);
        vsnprintf(err, errlen, format, args);
        va_end(args);
    }
    return -1;
}
