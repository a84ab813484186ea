/* lifecycle: PROGRAM's exit detail and the start/exit summary (see
 * lifecycle.h). */
#include "lifecycle.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static void describe(char *out, size_t size, const struct lifecycle_exit *e)
{
	long long ms = e->ms < 0 ? 0 : e->ms;
	if (e->signal)
		snprintf(out, size, "killed by signal %d after %lld.%03lld s", e->signal, ms / 1000,
			 ms % 1000);
	else
		snprintf(out, size, "exited with %d after %lld.%03lld s", e->status, ms / 1000,
			 ms % 1000);
}

void lifecycle_exit_detail(char *out, size_t size, int wait_status, long long ms)
{
	struct lifecycle_exit e = { .status = -1, .signal = 0, .ms = ms };
	if (WIFSIGNALED(wait_status))
		e.signal = WTERMSIG(wait_status);
	else
		e.status = WEXITSTATUS(wait_status);
	describe(out, size, &e);
}

/* A decimal number at *p of at most digits digits, without a leading zero
 * (but "0"), at most max; advances *p. */
static bool number(const char **p, int digits, long long max, long long *v)
{
	const char *s = *p;
	long long n = 0;
	int i = 0;
	while (s[i] >= '0' && s[i] <= '9') {
		if (i == digits || (i == 1 && s[0] == '0'))
			return false;
		n = n * 10 + (s[i] - '0');
		i++;
	}
	if (i == 0 || n > max)
		return false;
	*p = s + i;
	*v = n;
	return true;
}

static bool literal(const char **p, const char *lit)
{
	size_t n = strlen(lit);
	if (strncmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

bool lifecycle_parse_exit(const char *detail, struct lifecycle_exit *e)
{
	const char *p = detail;
	long long code, secs, frac;
	if (!p)
		return false;
	if (literal(&p, "exited with ")) {
		if (!number(&p, 3, 255, &code))
			return false;
		e->status = (int)code;
		e->signal = 0;
	} else if (literal(&p, "killed by signal ")) {
		if (!number(&p, 2, 64, &code) || code == 0)
			return false;
		e->status = -1;
		e->signal = (int)code;
	} else {
		return false;
	}
	/* Three decimals exactly: "0.050", so frac may start with zeros. */
	if (!literal(&p, " after ") || !number(&p, 12, 999999999999LL, &secs) || *p++ != '.')
		return false;
	for (int i = 0; i < 3; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	frac = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	p += 3;
	if (strcmp(p, " s") != 0)
		return false;
	e->ms = secs * 1000 + frac;
	return true;
}

void lifecycle_init(struct lifecycle *l)
{
	memset(l, 0, sizeof(*l));
}

/* volinit's time form exactly (jbuf_time): nothing else is shown. */
static bool our_time(const struct record_value *t)
{
	static const char form[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	if (t->kind != RECORD_STRING || strlen(t->str) != sizeof(form) - 1)
		return false;
	for (size_t i = 0; form[i]; i++) {
		char c = t->str[i];
		if (form[i] == 'd' ? c < '0' || c > '9' : c != form[i])
			return false;
	}
	return true;
}

/* FNV-1a over the host (or its absence) and the pid. */
static uint64_t who(const struct journal_record *r)
{
	uint64_t h = 14695981039346656037ULL;
	const char *s = r->host.kind == RECORD_STRING ? r->host.str : "";
	unsigned char mark = r->host.kind == RECORD_STRING ? 1 : 0;
	h = (h ^ mark) * 1099511628211ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	unsigned long long pid = r->pid.kind == RECORD_INT ? (unsigned long long)r->pid.num : ~0ULL;
	for (int i = 0; i < 8; i++)
		h = (h ^ ((pid >> (8 * i)) & 0xff)) * 1099511628211ULL;
	return h;
}

static void add_start(struct lifecycle *l, const struct journal_record *r)
{
	if (l->nrecent == LIFECYCLE_STARTS) {
		memmove(&l->recent[0], &l->recent[1], sizeof(l->recent[0]) * (LIFECYCLE_STARTS - 1));
		l->nrecent--;
	}
	l->recent[l->nrecent].who = who(r);
	l->recent[l->nrecent].outcome = LIFECYCLE_OPEN;
	l->nrecent++;
	snprintf(l->last_start, sizeof(l->last_start), "%s", r->time.str);
}

static void add_exit(struct lifecycle *l, const struct journal_record *r)
{
	struct lifecycle_exit e;
	if (r->detail.kind != RECORD_STRING || !lifecycle_parse_exit(r->detail.str, &e))
		return;
	l->last_exit = e;
	snprintf(l->last_exit_time, sizeof(l->last_exit_time), "%s", r->time.str);
	/* It ends the newest open start of the same volinit; one whose start
	 * is older than the window counts for nothing. */
	uint64_t w = who(r);
	for (size_t i = l->nrecent; i-- > 0;) {
		if (l->recent[i].who == w && l->recent[i].outcome == LIFECYCLE_OPEN) {
			bool clean = e.signal == 0 && e.status == 0;
			l->recent[i].outcome = clean ? LIFECYCLE_CLEAN : LIFECYCLE_CRASH;
			return;
		}
	}
}

void lifecycle_add(struct lifecycle *l, const struct journal_record *r)
{
	if (!r->readable || r->event.kind != RECORD_STRING || !our_time(&r->time))
		return;
	if (strcmp(r->event.str, "start") == 0)
		add_start(l, r);
	else if (strcmp(r->event.str, "exit") == 0)
		add_exit(l, r);
}

void lifecycle_summarize(const struct journal_record *recs, size_t n, struct lifecycle *l)
{
	lifecycle_init(l);
	for (size_t i = 0; i < n; i++)
		lifecycle_add(l, &recs[i]);
}

bool lifecycle_running(const struct lifecycle *l)
{
	return l->nrecent > 0 && l->recent[l->nrecent - 1].outcome == LIFECYCLE_OPEN;
}

size_t lifecycle_crashes(const struct lifecycle *l)
{
	size_t n = 0;
	for (size_t i = 0; i < l->nrecent; i++)
		if (l->recent[i].outcome == LIFECYCLE_CRASH ||
		    (l->recent[i].outcome == LIFECYCLE_OPEN && i + 1 < l->nrecent))
			n++;
	return n;
}

static void json_time(struct jbuf *b, const char *t)
{
	if (*t)
		jbuf_printf(b, "\"%s\"", t); /* checked: digits and -:.TZ only */
	else
		jbuf_puts(b, "null");
}

void lifecycle_json(struct jbuf *b, const struct lifecycle *l)
{
	jbuf_puts(b, "{\"last_start\":");
	json_time(b, l->last_start);
	jbuf_puts(b, ",\"last_exit\":");
	if (*l->last_exit_time) {
		const struct lifecycle_exit *e = &l->last_exit;
		jbuf_puts(b, "{\"time\":");
		json_time(b, l->last_exit_time);
		if (e->signal)
			jbuf_printf(b, ",\"status\":null,\"signal\":%d", e->signal);
		else
			jbuf_printf(b, ",\"status\":%d,\"signal\":null", e->status);
		jbuf_printf(b, ",\"seconds\":%lld.%03lld}", e->ms / 1000, e->ms % 1000);
	} else {
		jbuf_puts(b, "null");
	}
	jbuf_printf(b, ",\"running\":%s,\"window\":%d,\"starts\":%zu,\"crashes\":%zu}",
		    lifecycle_running(l) ? "true" : "false", LIFECYCLE_STARTS, l->nrecent,
		    lifecycle_crashes(l));
}

void lifecycle_text(struct jbuf *b, const struct lifecycle *l)
{
	if (!*l->last_start && !*l->last_exit_time) {
		jbuf_printf(b, "  %-13s no start in the journal\n", "lifecycle:");
		return;
	}
	jbuf_printf(b, "  %-13s last start %s", "lifecycle:", *l->last_start ? l->last_start : "unknown");
	if (*l->last_exit_time) {
		char detail[LIFECYCLE_DETAIL_MAX];
		describe(detail, sizeof(detail), &l->last_exit);
		jbuf_printf(b, ", last exit %s: %s", l->last_exit_time, detail);
	}
	/* The newest start may also have been killed hard: only the next
	 * start can tell. */
	jbuf_puts(b, lifecycle_running(l) ? "; no exit since (running, or killed hard)\n" : "\n");
	if (l->nrecent == LIFECYCLE_STARTS)
		jbuf_printf(b, "  %-13s %zu of the last %d starts\n", "crashes:",
			    lifecycle_crashes(l), LIFECYCLE_STARTS);
	else
		jbuf_printf(b, "  %-13s %zu of the last %zu starts (fewer than %d recorded)\n",
			    "crashes:", lifecycle_crashes(l), l->nrecent, LIFECYCLE_STARTS);
}
