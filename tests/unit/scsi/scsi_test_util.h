/* What the codec tests share: the check of a decoder's field error (the
 * sense-key-specific field pointer it would report) and a TransportID
 * built from its parts. Include after <cmocka.h>. */
#ifndef PRKIT_SCSI_TEST_UTIL_H
#define PRKIT_SCSI_TEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "prkit/scsi_sense.h"
#include "prkit/scsi_tid.h"

/* Filled around the bytes a test expects to be left alone. */
#define GUARD 0xa5

/* e (struct prk_field_err) names a field: in the CDB or the parameter
 * list, byte, bit (-1: the whole byte), the ASC/ASCQ to report and the
 * field's name. */
#define assert_ferr(e, cdb_, byte_, bit_, asc_, field_)                                            \
	do {                                                                                       \
		assert_int_equal((e).in_cdb, (cdb_));                                              \
		assert_true((e).has_ptr);                                                          \
		assert_int_equal((e).byte, (byte_));                                               \
		assert_int_equal((e).bit, (bit_));                                                 \
		assert_int_equal((e).asc, (asc_));                                                 \
		assert_string_equal((e).field, (field_));                                          \
	} while (0)

/* The usual case of the decoders of parameter data. */
#define assert_perr(e, byte_, bit_, field_)                                                        \
	assert_ferr(e, false, byte_, bit_, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, field_)

static inline void make_tid(struct prk_tid *t, uint8_t fmt, const char *name, uint64_t isid)
{
	memset(t, 0, sizeof(*t));
	t->format = fmt;
	t->isid = isid;
	strcpy(t->name, name);
}

#endif
