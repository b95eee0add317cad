/* fence_prkit's metadata XML: well-formed (a small checker, tested on
 * broken input first), the elements and attributes Pacemaker and the
 * fence-agents tools look for, and every parameter accepted on stdin. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fence_meta.h"
#include "fence_opts.h"

/* ---- a small well-formedness checker ----
 * An optional <?xml ...?> declaration, then one root element; tags
 * balanced and properly nested; attributes name="value", no attribute
 * twice in one tag; '<' never in text or values; '&' only as one of the
 * five predefined entities. Comments and CDATA are not expected. */

#define MAX_DEPTH 32
#define MAX_NAME 64

static bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Reads a name at *p into buf; false if there is none. */
static bool read_name(const char **p, char *buf)
{
	size_t n = 0;

	if (!name_start(**p))
		return false;
	while (name_char(**p) && n < MAX_NAME - 1)
		buf[n++] = *(*p)++;
	buf[n] = '\0';
	return !name_char(**p);
}

/* An '&' at p starts a predefined entity; returns its length or 0. */
static size_t entity_len(const char *p)
{
	static const char *const ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};

	for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
		if (strncmp(p, ents[i], strlen(ents[i])) == 0)
			return strlen(ents[i]);
	return 0;
}

static int bad(char *why, size_t len, const char *xml, const char *p, const char *what)
{
	snprintf(why, len, "%s at offset %td", what, p - xml);
	return -1;
}

static int xml_check(const char *xml, char *why, size_t len)
{
	char stack[MAX_DEPTH][MAX_NAME];
	int depth = 0;
	bool root_done = false;
	const char *p = xml;

	if (strncmp(p, "<?xml", 5) == 0) {
		p = strstr(p, "?>");
		if (!p)
			return bad(why, len, xml, xml, "unterminated declaration");
		p += 2;
	}
	while (*p) {
		if (*p != '<') {
			if (*p == '&') {
				size_t n = entity_len(p);

				if (!n)
					return bad(why, len, xml, p, "bare '&'");
				p += n;
				continue;
			}
			if (*p == '>')
				return bad(why, len, xml, p, "stray '>'");
			if (depth == 0 && !is_space(*p))
				return bad(why, len, xml, p, "text outside the root element");
			p++;
			continue;
		}
		p++;
		if (*p == '?' || *p == '!')
			return bad(why, len, xml, p, "declaration or comment inside the document");
		if (*p == '/') {
			char name[MAX_NAME];

			p++;
			if (!read_name(&p, name))
				return bad(why, len, xml, p, "bad end tag name");
			while (is_space(*p))
				p++;
			if (*p != '>')
				return bad(why, len, xml, p, "end tag not closed");
			p++;
			if (depth == 0)
				return bad(why, len, xml, p, "end tag without start tag");
			if (strcmp(stack[depth - 1], name) != 0) {
				snprintf(why, len, "</%s> closes <%s> at offset %td", name,
				         stack[depth - 1], p - xml);
				return -1;
			}
			if (--depth == 0)
				root_done = true;
			continue;
		}
		/* a start tag */
		char name[MAX_NAME], attrs[16][MAX_NAME];
		int n_attrs = 0;

		if (root_done && depth == 0)
			return bad(why, len, xml, p, "second root element");
		if (!read_name(&p, name))
			return bad(why, len, xml, p, "bad tag name");
		for (;;) {
			bool spaced = false;

			while (is_space(*p)) {
				p++;
				spaced = true;
			}
			if (*p == '>' || (p[0] == '/' && p[1] == '>'))
				break;
			if (!spaced)
				return bad(why, len, xml, p, "no blank before an attribute");
			if (n_attrs == 16 || !read_name(&p, attrs[n_attrs]))
				return bad(why, len, xml, p, "bad attribute name");
			for (int i = 0; i < n_attrs; i++)
				if (strcmp(attrs[i], attrs[n_attrs]) == 0)
					return bad(why, len, xml, p, "attribute given twice");
			n_attrs++;
			if (*p++ != '=')
				return bad(why, len, xml, p, "attribute without '='");
			if (*p++ != '"')
				return bad(why, len, xml, p, "attribute value not quoted");
			while (*p && *p != '"') {
				if (*p == '<')
					return bad(why, len, xml, p, "'<' in an attribute value");
				if (*p == '&') {
					size_t n = entity_len(p);

					if (!n)
						return bad(why, len, xml, p,
						           "bare '&' in an attribute");
					p += n;
					continue;
				}
				p++;
			}
			if (*p++ != '"')
				return bad(why, len, xml, p, "unterminated attribute value");
		}
		if (*p == '/') {
			p += 2; /* empty element */
			if (depth == 0)
				root_done = true;
			continue;
		}
		p++;
		if (depth == MAX_DEPTH)
			return bad(why, len, xml, p, "too deep");
		strcpy(stack[depth++], name);
	}
	if (depth) {
		snprintf(why, len, "<%s> is not closed", stack[depth - 1]);
		return -1;
	}
	if (!root_done)
		return bad(why, len, xml, p, "no root element");
	return 0;
}

static char *metadata(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	prk_fence_metadata(f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

/* ---- tests ---- */

static void checker_catches_mistakes(void **state)
{
	static const char *const broken[] = {
	    "<a><b></a></b>",
	    "<a><b></b>",
	    "<a></a></a>",
	    "<a></a><b/>",
	    "<a>x & y</a>",
	    "<a>x < y</a>",
	    "<a x=\"1\" x=\"2\"/>",
	    "<a x=1/>",
	    "<a x=\"1\"y=\"2\"/>",
	    "<a x=\"<\"/>",
	    "<a x=\"1/>",
	    "<a></b>",
	    "text<a/>",
	    "<a/>text",
	    "",
	    "<?xml version=\"1.0\"",
	    "<a><!-- c --></a>",
	    "<a>></a>",
	    "<1a/>",
	    "<a x=\"&bogus;\"/>",
	};
	static const char *const good[] = {
	    "<a/>",
	    "<?xml version=\"1.0\" ?>\n<a x=\"1\" y='2'/>" + 0,
	    "<a>x &amp; y &lt; &quot;z&quot;</a>",
	    "<a><b c=\"d &amp; e\" /><b></b>\n</a>\n",
	};
	char why[200];

	(void)state;
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++)
		if (xml_check(broken[i], why, sizeof(why)) == 0)
			fail_msg("the checker accepted \"%s\"", broken[i]);
	/* good[1] uses single quotes, which the checker does not take */
	assert_int_equal(xml_check(good[0], why, sizeof(why)), 0);
	assert_int_equal(xml_check(good[1], why, sizeof(why)), -1);
	assert_int_equal(xml_check(good[2], why, sizeof(why)), 0);
	assert_int_equal(xml_check(good[3], why, sizeof(why)), 0);
}

static void well_formed(void **state)
{
	char why[200] = "";
	char *xml = metadata();

	(void)state;
	if (xml_check(xml, why, sizeof(why)))
		fail_msg("metadata is not well-formed: %s\n%s", why, xml);
	assert_int_equal(strncmp(xml, "<?xml version=\"1.0\" ?>\n", 23), 0);
	free(xml);
}

static void agent_and_actions(void **state)
{
	static const char *const actions[] = {
	    "<action name=\"off\" />",          "<action name=\"status\" />",
	    "<action name=\"list\" />",         "<action name=\"list-status\" />",
	    "<action name=\"monitor\" />",      "<action name=\"metadata\" />",
	    "<action name=\"validate-all\" />",
	};
	char *xml = metadata();
	const char *on;

	(void)state;
	assert_non_null(strstr(xml, "<resource-agent name=\"fence_prkit\" shortdesc=\""));
	assert_non_null(strstr(xml, "<longdesc>"));
	on = strstr(xml, "<action name=\"on\" on_target=\"1\" automatic=\"1\"/>");
	assert_non_null(on);
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (!strstr(xml, actions[i]))
			fail_msg("no %s", actions[i]);
	/* reboot is not offered: Pacemaker then asks for off */
	assert_null(strstr(xml, "<action name=\"reboot\""));
	/* the actions come after the parameters, inside <actions> */
	assert_true(strstr(xml, "</parameters>") < strstr(xml, "<actions>"));
	assert_true(strstr(xml, "<actions>") < on);
	assert_true(on < strstr(xml, "</actions>"));
	/* the longdesc explains the key layout */
	assert_non_null(strstr(xml, "CCCCNNNNIIIIIIII"));
	assert_non_null(strstr(xml, "incarnation"));
	free(xml);
}

/* The parameters the options offer on stdin, with a value each accepts. */
static const struct {
	const char *name;
	const char *value;
	const char *type;
} want[] = {
    {"action", "metadata", "string"},
    {"devices", "iscsi://h/iqn.2026-01.io.prkit:t/0", "string"},
    {"nodename", "node1", "string"},
    {"plug", "1", "string"},
    {"host_map", "node1:1", "string"},
    {"local_node", "node1", "string"},
    {"cluster_name", "c1", "string"},
    {"key_mode", "cluster", "select"},
    {"first", "1", "boolean"},
    {"members", "node1", "string"},
    {"initiator", "iqn.2026-01.io.prkit:n1", "string"},
    {"state_dir", "/var/lib/prkit", "string"},
    {"retry", "2", "integer"},
    {"retry_sleep", "2", "second"},
    {"verbose", "1", "boolean"},
    {"timeout", "10", "second"},
};

static void every_parameter(void **state)
{
	char *xml = metadata();
	char pat[128];

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(pat, sizeof(pat), "<parameter name=\"%s\" ", want[i].name);
		if (!strstr(xml, pat))
			fail_msg("no parameter %s", want[i].name);
	}
	free(xml);
}

/* Each <parameter>: exactly one getopt, one content with a type, one
 * shortdesc; the type expected; defaults where the options have them. */
static void parameter_blocks(void **state)
{
	char *xml = metadata();
	const char *p = xml;
	size_t n = 0;

	(void)state;
	while ((p = strstr(p, "<parameter name=\""))) {
		const char *end = strstr(p, "</parameter>");
		char name[64], type[32], block[4096];
		size_t len, k;
		bool known = false;

		assert_non_null(end);
		len = (size_t)(end - p);
		assert_true(len < sizeof(block));
		memcpy(block, p, len);
		block[len] = '\0';
		assert_int_equal(sscanf(block, "<parameter name=\"%63[^\"]\"", name), 1);
		assert_non_null(strstr(block, " unique=\"0\""));
		assert_true(strstr(block, " required=\"0\"") || strstr(block, " required=\"1\""));

		const char *c = strstr(block, "<content type=\"");
		assert_non_null(c);
		assert_null(strstr(c + 1, "<content "));
		assert_int_equal(sscanf(c, "<content type=\"%31[^\"]\"", type), 1);
		const char *g = strstr(block, "<getopt mixed=\"");
		assert_non_null(g);
		assert_null(strstr(g + 1, "<getopt "));
		const char *s = strstr(block, "<shortdesc lang=\"en\">");
		assert_non_null(s);
		assert_null(strstr(s + 1, "<shortdesc "));
		assert_true(strstr(s, "</shortdesc>") > s + strlen("<shortdesc lang=\"en\">"));

		for (k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
			if (strcmp(want[k].name, name) == 0) {
				known = true;
				if (strcmp(want[k].type, type) != 0)
					fail_msg("parameter %s has type %s, not %s", name, type,
					         want[k].type);
			}
		}
		if (!known)
			fail_msg("parameter %s is not in the test's list", name);
		n++;
		p = end;
	}
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));

	/* select values and defaults */
	assert_non_null(strstr(xml, "<content type=\"select\" default=\"node\" >\n"
	                            "\t\t\t<option value=\"node\" />\n"
	                            "\t\t\t<option value=\"cluster\" />\n"
	                            "\t\t</content>"));
	assert_non_null(strstr(xml, "<content type=\"string\" default=\"off\" />"));
	assert_non_null(strstr(xml, "<content type=\"string\" default=\"prkit\" />"));
	assert_non_null(strstr(xml, "<content type=\"second\" default=\"30\" />"));
	assert_non_null(strstr(xml, "<content type=\"second\" default=\"1\" />"));
	assert_non_null(strstr(xml, "<content type=\"integer\" default=\"0\" />"));
	/* Pacemaker would fill a listed nodeid with the target's node id,
	 * which our nodeid (this node) must never receive. */
	assert_null(strstr(xml, "name=\"nodeid\""));
	/* devices and action are required; the rest are not */
	assert_non_null(strstr(xml, "<parameter name=\"devices\" unique=\"0\" required=\"1\">"));
	assert_non_null(strstr(xml, "<parameter name=\"action\" unique=\"0\" required=\"1\">"));
	assert_non_null(strstr(xml, "<parameter name=\"nodename\" unique=\"0\" required=\"0\">"));
	free(xml);
}

/* The defaults printed are the options' defaults. */
static void defaults_match_options(void **state)
{
	struct prk_fence_opts *o = malloc(sizeof(*o));
	char *xml = metadata();
	char pat[128];

	(void)state;
	assert_non_null(o);
	prk_fence_opts_init(o);
	snprintf(pat, sizeof(pat), "<content type=\"second\" default=\"%u\" />", o->timeout);
	assert_non_null(strstr(xml, pat));
	snprintf(pat, sizeof(pat), "<content type=\"second\" default=\"%u\" />", o->retry_sleep);
	assert_non_null(strstr(xml, pat));
	snprintf(pat, sizeof(pat), "<content type=\"string\" default=\"%s\" />", o->cluster_name);
	assert_non_null(strstr(xml, pat));
	snprintf(pat, sizeof(pat), "<content type=\"string\" default=\"%s\" />",
	         prk_fence_action_name(o->action));
	assert_non_null(strstr(xml, pat));
	free(o);
	free(xml);
}

/* Every parameter the metadata offers is taken by the stdin parser. */
static void parameters_accepted_on_stdin(void **state)
{
	struct prk_fence_opts *o = malloc(sizeof(*o));
	char line[256], err[512];

	(void)state;
	assert_non_null(o);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		FILE *f;

		snprintf(line, sizeof(line), "action=metadata\n%s=%s\n", want[i].name,
		         want[i].value);
		f = fmemopen(line, strlen(line), "r");
		assert_non_null(f);
		prk_fence_opts_init(o);
		err[0] = '\0';
		if (prk_fence_opts_parse_stdin(f, o, err, sizeof(err)) != 0)
			fail_msg("stdin refused %s=%s: %s", want[i].name, want[i].value, err);
		fclose(f);
	}
	free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(checker_catches_mistakes),
	    cmocka_unit_test(well_formed),
	    cmocka_unit_test(agent_and_actions),
	    cmocka_unit_test(every_parameter),
	    cmocka_unit_test(parameter_blocks),
	    cmocka_unit_test(defaults_match_options),
	    cmocka_unit_test(parameters_accepted_on_stdin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
