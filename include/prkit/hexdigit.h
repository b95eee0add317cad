/* Transitional: the hex digit helper now lives in src/base (it was never
 * meant to be public). This file only forwards for the sources that still
 * include it by its old name (src/host/ctl_proto.c, src/iscsi/text.c,
 * src/iscsi/chap.c); delete it once they include "hexdigit.h" from
 * src/base. */
#include "../../src/base/hexdigit.h"
