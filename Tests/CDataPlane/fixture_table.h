/*
 * fixture_table.h — the answer table the C harnesses answer from.
 */
#ifndef KUBEDNS_FIXTURE_TABLE_H
#define KUBEDNS_FIXTURE_TABLE_H

#include "dataplane.h"

#include <stdint.h>

dp_table *fixture_table(uint8_t address_byte);

#endif
