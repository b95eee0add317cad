/* Asymmetric logical unit access (SPC-4 5.16): the table of target port
 * groups and their states (owned by the layer above, read by every LU),
 * REPORT TARGET PORT GROUPS, and the per-command access check of ports in
 * standby or unavailable state.
 *
 * Decisions:
 *  - Implicit ALUA only (INQUIRY TPGS = 01b): states change through the
 *    target's administration, never through SET TARGET PORT GROUPS (not
 *    implemented: 20/00). Each target port is its own group.
 *  - RTPG reports T_SUP, U_SUP, S_SUP, AN_SUP and AO_SUP (the states an
 *    administrator can set; transitions are instantaneous, so no group is
 *    ever reported as transitioning), PREF = 0 (no group is preferred),
 *    STATUS CODE 00h and IMPLICIT TRANSITION TIME 0.
 *  - Commands allowed through a port in standby state (SPC-4 5.16.2.4.4):
 *    INQUIRY, LOG SELECT/SENSE, MODE SELECT/SENSE (6 and 10), REPORT LUNS,
 *    RECEIVE DIAGNOSTIC RESULTS, SEND DIAGNOSTIC, REPORT TARGET PORT GROUPS,
 *    SET TARGET PORT GROUPS, REQUEST SENSE, PERSISTENT RESERVE IN/OUT, the
 *    echo buffer modes of READ/WRITE BUFFER, and (the standard lets a
 *    device server support more) REPORT SUPPORTED OPERATION CODES and
 *    REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS. Anything else, TEST UNIT
 *    READY included: NOT READY, 04/0B.
 *  - Through a port in unavailable state (SPC-4 5.16.2.4.5): INQUIRY,
 *    REPORT LUNS, REPORT TARGET PORT GROUPS, SET TARGET PORT GROUPS,
 *    REQUEST SENSE, the echo buffer modes of READ/WRITE BUFFER, and REPORT
 *    SUPPORTED OPERATION CODES / TASK MANAGEMENT FUNCTIONS. Anything else:
 *    NOT READY, 04/0C.
 *  - An allowed command this LU does not implement still gets 20/00. */
#include "lu_internal.h"

#define MO_SET_TARGET_PGS 0x0a /* MAINTENANCE OUT service action */

/* T_SUP, U_SUP, S_SUP, AN_SUP, AO_SUP */
#define RTPG_SUPPORTED 0x8f

static bool restricted(uint8_t state)
{
	return state == PRK_LU_ALUA_STANDBY || state == PRK_LU_ALUA_UNAVAILABLE;
}

static bool valid_state(unsigned state)
{
	return state <= PRK_LU_ALUA_UNAVAILABLE;
}

static struct prk_lu_port_group *find(struct prk_lu_port_groups *t, uint16_t rtpi)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->g[i].rtpi == rtpi)
			return &t->g[i];
	return NULL;
}

const struct prk_lu_port_group *prk_lu_port_groups_find(const struct prk_lu_port_groups *t,
                                                        uint16_t rtpi)
{
	return t ? find((struct prk_lu_port_groups *)t, rtpi) : NULL;
}

int prk_lu_port_groups_add(struct prk_lu_port_groups *t, uint16_t tpg, uint16_t rtpi,
                           enum prk_lu_alua_state state)
{
	if (t->n == PRK_LU_MAX_PORT_GROUPS || !valid_state(state))
		return -1;
	for (size_t i = 0; i < t->n; i++)
		if (t->g[i].rtpi == rtpi || t->g[i].tpg == tpg)
			return -1;
	t->g[t->n++] = (struct prk_lu_port_group){.tpg = tpg, .rtpi = rtpi, .state = state};
	t->n_restricted += restricted(state);
	return 0;
}

void prk_lu_port_groups_remove(struct prk_lu_port_groups *t, uint16_t rtpi)
{
	struct prk_lu_port_group *g = find(t, rtpi);
	if (!g)
		return;
	t->n_restricted -= restricted(g->state);
	size_t i = (size_t)(g - t->g);
	memmove(g, g + 1, (t->n - i - 1) * sizeof(*g));
	t->n--;
}

int prk_lu_port_groups_set(struct prk_lu_port_groups *t, uint16_t rtpi,
                           enum prk_lu_alua_state state)
{
	struct prk_lu_port_group *g = find(t, rtpi);
	if (!g || !valid_state(state))
		return -1;
	if (g->state == state)
		return 0;
	t->n_restricted -= restricted(g->state);
	t->n_restricted += restricted(state);
	g->state = (uint8_t)state;
	return 1;
}

static const char *const state_names[] = {
    [PRK_LU_ALUA_ACTIVE_OPTIMIZED] = "active_optimized",
    [PRK_LU_ALUA_ACTIVE_NON_OPTIMIZED] = "active_non_optimized",
    [PRK_LU_ALUA_STANDBY] = "standby",
    [PRK_LU_ALUA_UNAVAILABLE] = "unavailable",
};

const char *prk_lu_alua_state_name(unsigned state)
{
	return valid_state(state) ? state_names[state] : "?";
}

int prk_lu_alua_state_parse(const char *name, enum prk_lu_alua_state *out)
{
	for (unsigned i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum prk_lu_alua_state)i;
			return 0;
		}
	return -1;
}

void prk_lu_set_port_groups(struct prk_lu *lu, const struct prk_lu_port_groups *t)
{
	lu->tpgs = t;
}

void prk_lu_alua_changed(struct prk_lu *lu)
{
	prk_lu_queue_ua_all(lu, PRK_ASC_ASYMMETRIC_ACCESS_STATE_CHANGED);
}

/* ---- The access check ---- */

/* READ BUFFER modes 0Ah (echo buffer) and 0Bh (echo buffer descriptor),
 * WRITE BUFFER mode 0Ah. */
static bool echo_buffer(const uint8_t *c)
{
	uint8_t mode = c[1] & 0x1f;
	return mode == 0x0a || (c[0] == PRK_OP_READ_BUFFER && mode == 0x0b);
}

bool prk_lu_alua_allowed(const uint8_t *c, bool standby)
{
	switch (c[0]) {
	case PRK_OP_INQUIRY:
	case PRK_OP_REPORT_LUNS:
	case PRK_OP_REQUEST_SENSE:
		return true;
	case PRK_OP_MAINTENANCE_IN:
		switch (c[1] & 0x1f) {
		case PRK_MI_REPORT_TARGET_PGS:
		case PRK_MI_REPORT_SUPPORTED_OPCODES:
		case PRK_MI_REPORT_SUPPORTED_TMFS:
			return true;
		default:
			return false;
		}
	case PRK_OP_MAINTENANCE_OUT:
		return (c[1] & 0x1f) == MO_SET_TARGET_PGS;
	case PRK_OP_READ_BUFFER:
	case PRK_OP_WRITE_BUFFER:
		return echo_buffer(c);
	case PRK_OP_LOG_SELECT:
	case PRK_OP_LOG_SENSE:
	case PRK_OP_MODE_SELECT6:
	case PRK_OP_MODE_SELECT10:
	case PRK_OP_MODE_SENSE6:
	case PRK_OP_MODE_SENSE10:
	case PRK_OP_RECEIVE_DIAGNOSTIC:
	case PRK_OP_SEND_DIAGNOSTIC:
	case PRK_OP_PR_IN:
	case PRK_OP_PR_OUT:
		return standby;
	default:
		return false;
	}
}

bool prk_lu_alua_check(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	if (!cmd->port)
		return true;
	const struct prk_lu_port_group *g = prk_lu_port_groups_find(lu->tpgs, cmd->port->rtpi);
	if (!g || !restricted(g->state))
		return true;
	bool standby = g->state == PRK_LU_ALUA_STANDBY;
	if (prk_lu_alua_allowed(cmd->cdb, standby))
		return true;
	prk_lu_fail_asc(lu, cmd, PRK_SK_NOT_READY,
	                standby ? PRK_ASC_LU_NOT_ACCESSIBLE_STANDBY
	                        : PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
	return false;
}

/* ---- REPORT TARGET PORT GROUPS (SPC-4 6.37) ---- */

/* One target port group descriptor with its one target port descriptor. */
static size_t group_desc(uint8_t *g, uint16_t tpg, uint16_t rtpi, uint8_t state)
{
	g[0] = state & 0x0f; /* PREF 0, ASYMMETRIC ACCESS STATE */
	g[1] = RTPG_SUPPORTED;
	prk_put_be16(g + 2, tpg);
	g[5] = 0x00; /* STATUS CODE: no status available */
	g[7] = 1;    /* TARGET PORT COUNT */
	prk_put_be16(g + 8 + 2, rtpi);
	return 8 + 4;
}

/* Every group of the table, in the order the ports were added, with its
 * current state; the group of the command's own port is always included
 * (as active/optimized when the table does not know it). PARAMETER DATA
 * FORMAT 000b (length-only header) or 001b (extended header); others are
 * 24/00. RETURN DATA LENGTH counts the bytes after itself in both formats. */
void prk_lu_rtpg(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	const uint8_t *c = cmd->cdb;
	uint8_t d[8 + 12 * (PRK_LU_MAX_PORT_GROUPS + 1)] = {0};
	uint8_t fmt = c[1] >> 5;
	const struct prk_lu_port_groups *t = lu->tpgs;
	const struct prk_lu_port *p = cmd->port;
	bool own_listed = false;
	size_t off;

	if (fmt > 1) {
		prk_lu_fail_cdb(lu, cmd, 1, 7);
		return;
	}
	off = fmt ? 8 : 4;
	if (fmt) {
		d[4] = 0x10; /* FORMAT TYPE 001b */
		d[5] = 0;    /* IMPLICIT TRANSITION TIME */
	}
	for (size_t i = 0; t && i < t->n; i++) {
		off += group_desc(d + off, t->g[i].tpg, t->g[i].rtpi, t->g[i].state);
		own_listed |= p && t->g[i].rtpi == p->rtpi;
	}
	if (p && !own_listed)
		off += group_desc(d + off, p->tpg, p->rtpi, PRK_LU_ALUA_ACTIVE_OPTIMIZED);
	prk_put_be32(d, (uint32_t)(off - 4));
	prk_lu_reply(lu, cmd, d, off, prk_get_be32(c + 6));
}
