/*
 * fixture_table.h — the answer table the C harnesses answer from.
 */
#ifndef KUBEDNS_FIXTURE_TABLE_H
#define KUBEDNS_FIXTURE_TABLE_H

#include "dataplane.h"

#include <stdint.h>

#define FIXTURE_FILLERS 600

dp_table *fixture_table(uint8_t address_byte);

/* Filler n<i>'s name, n<i>.ns.svc.cluster.local, into `name`; its length. */
size_t fixture_filler_name(int i, uint8_t *name);

/* A builder with the zone and the names n<first> to n<first + count - 1>. */
dp_table_builder *fixture_fillers(int first, int count);

/* The table after `base` with the names n<first_added> on (`added` of
 * them) added and n<first_removed> on (`removed`) removed, built as a delta. */
dp_table *fixture_filler_delta(const dp_table *base, int first_added, int added, int first_removed,
                               int removed);

/* The table after `base` with web's addresses changed, built as a delta. */
dp_table *fixture_delta(const dp_table *base, uint8_t address_byte);

#endif
