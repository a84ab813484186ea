/* startup: the guard phase of a start (see startup.h). First every volume
 * is looked at under a shared lock and every refusal reported; only when
 * none refuses is anything written. */
#include "startup.h"
#include "apply.h"
#include "guard.h"
#include "holders.h"
#include "journal.h"
#include "log.h"
#include "migrate.h"
#include "report.h"
#include "verify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Volume `failed` stopped the start (rc) after earlier volumes were
 * migrated in it: those stay migrated (their snapshots are gone), and an
 * image that expects their old version now refuses them. Say so, in a
 * hint and in their journals. */
static void note_migrated(const struct config *cfg, const struct startup *s, size_t failed, int rc)
{
	const struct volume_conf *fv = &cfg->volumes[failed];
	for (size_t i = 0; i < failed; i++) {
		const struct session *h = &s->volumes[i].session;
		const struct volume_conf *v = &cfg->volumes[i];
		if (h->migrated_from < 0)
			continue;
		log_hint(v->name, "volume \"%s\" was migrated to %d in this start and stays at %d: "
				  "an image that expects %d will refuse it (81)", v->name,
			 (int)v->expected, (int)v->expected, (int)h->migrated_from);
		char detail[512];
		snprintf(detail, sizeof(detail), "the start failed on volume \"%.200s\" (%d) after "
			 "this volume was migrated %d -> %d; it stays at %d", fv->name, rc,
			 (int)h->migrated_from, (int)v->expected, (int)v->expected);
		journal_event(h->dirfd, v, "refuse", v->expected, v->expected, detail);
	}
}

/* Pass 1 for one volume: opened, locked shared, looked at; a refusal
 * reported; a migration planned; a verify hook checked to be the image's.
 * Nothing changes yet. */
static int look_at(const struct volume_conf *v, struct held_volume *hv, const struct privs *hp)
{
	struct session *h = &hv->session;
	int rc = session_open(h, v, SESSION_HOLD, GUARD_START);
	if (rc)
		return rc;
	if (h->d.action == ACT_REFUSE)
		return apply_decision(v, h->dirfd, &h->obs, &h->d, GUARD_START, hp, false);
	if (h->d.action == ACT_MIGRATE) {
		/* Every volume's plan before any volume changes. */
		rc = migrate_plan_check(v, h->d.from);
	} else if (h->d.action == ACT_RUN && h->d.has_from) {
		log_info(v->name, "volume \"%s\" (%s): %s = %d, as expected", v->name, v->path,
			 v->version_file, (int)h->d.from);
	} else if (h->d.action == ACT_RUN) {
		log_notice(v->name, "volume \"%s\" (%s): empty, and on_missing = app: the program "
				    "writes %s", v->name, v->path, v->version_file);
	}
	hv->must_act = h->d.action != ACT_RUN;
	return rc ? rc : verify_trust(v);
}

/* What the version file is, for a message. */
static void found_text(const struct observation *obs, char *buf, size_t len)
{
	if (obs->what == OBS_VERSION || (obs->what == OBS_DIRTY && obs->has_version))
		snprintf(buf, len, "%d", (int)obs->version);
	else if (obs->what == OBS_EMPTY)
		snprintf(buf, len, "missing (the volume is empty)");
	else if (obs->what == OBS_UNVERSIONED || obs->what == OBS_DIRTY)
		snprintf(buf, len, "missing");
	else if (obs->what == OBS_CORRUPT)
		snprintf(buf, len, "corrupt");
	else
		snprintf(buf, len, "unreachable");
}

/* Pass 3's look at a volume with a verify hook, decided again (SPEC.md
 * "State on the volume": a later look that contradicts an earlier one
 * ends in a refusal, never in a skipped check). Passes 1 and 2 left the
 * volume where this image runs, under the start's shared lock, which no
 * other volinit changes a volume under: at a version it accepts, or, only
 * where pass 1 found it so, empty with on_missing = app. So this look must
 * find it at a version this image accepts (then verified at that
 * version), or still empty. Anything else was changed by something that
 * takes no lock (the app renamed, removed or rewrote the version file):
 * refused with the code of what is found (65 corrupt, 80 no version or an
 * older one, 81 newer, 83 dirty...), with a hint that it changed. */
static int look_again(struct held_volume *hv, const struct privs *hp)
{
	struct session *h = &hv->session;
	const struct volume_conf *v = h->v;
	bool was_empty = !hv->must_act && h->d.action == ACT_RUN && !h->d.has_from;
	char before[96];
	if (hv->must_act)
		snprintf(before, sizeof(before), "was brought to a version this image runs on");
	else if (was_empty)
		snprintf(before, sizeof(before), "was empty (on_missing = app)");
	else
		snprintf(before, sizeof(before), "was at %d", (int)h->d.from);
	int32_t was = !hv->must_act && h->d.has_from ? h->d.from : -1;

	session_look(h);
	const struct decision *d = &h->d;
	if (d->action == ACT_RUN && d->has_from) {
		if (was >= 0 && d->from != was)
			log_warn(v->name, "volume \"%s\" (%s): %s changed from %d to %d during this "
					  "start, under its lock: verifying %d", v->name, v->path,
				 v->version_file, (int)was, (int)d->from, (int)d->from);
		return verify_volume(v, h->dirfd, d->from, hp);
	}
	if (d->action == ACT_RUN && was_empty)
		return 0; /* still empty, on_missing = app: nothing to verify yet */

	int code = d->code;
	char found[64];
	found_text(&h->obs, found, sizeof(found));
	if (d->action == ACT_REFUSE) {
		apply_decision(v, h->dirfd, &h->obs, d, GUARD_START, hp, false);
	} else {
		/* A start never acts twice: what would be done now (init,
		 * adopt, migrate, restore) contradicts what this start did. */
		code = d->action == ACT_RESTORE ? 83 : 80;
		if (code == 83)
			log_fatal(code, v->name, "volume \"%s\" (%s): left dirty by an interrupted "
						 "migration (%s), found after this start had looked at it",
				  v->name, v->path, h->obs.detail);
		else if (h->obs.what == OBS_VERSION)
			log_fatal(code, v->name, "incompatible persistent state in volume \"%s\" (%s): "
						 "schema_version=%d, expected=%d", v->name, v->path,
				  (int)h->obs.version, (int)v->expected);
		else
			log_fatal(code, v->name, "incompatible persistent state in volume \"%s\" (%s): "
						 "schema_version=none, expected=%d", v->name, v->path,
				  (int)v->expected);
		log_hint(v->name, "volinit changed nothing on the volume after it first looked");
		char detail[256];
		snprintf(detail, sizeof(detail), "changed during the start: %s, then %s", before,
			 found);
		journal_event(h->dirfd, v, "refuse", h->obs.what == OBS_VERSION ? h->obs.version : -1,
			      v->expected, detail);
	}
	log_hint(v->name, "it %s when this start first looked, under its lock; before its verify "
			  "hook ran, %s was %s: something that takes no lock (the app?) changed it, "
			  "so neither the verify hook nor the program ran", before, v->version_file,
		 found);
	if (d->action != ACT_REFUSE)
		log_hint(v->name, "look at the volume: volinit status; when you know its "
				  "version: volinit stamp %s N", v->name);
	return code;
}

int startup_admit(const struct config *cfg, const struct privs *hp, struct startup *s)
{
	s->n = cfg->nvolumes;
	s->volumes = calloc(s->n ? s->n : 1, sizeof(*s->volumes));
	if (!s->volumes) {
		log_fatal(70, NULL, "out of memory");
		return 70;
	}
	for (size_t i = 0; i < s->n; i++)
		s->volumes[i].session = (struct session){ .dirfd = -1, .lockfd = -1,
							  .holder = HOLDER_NONE, .migrated_from = -1 };

	/* Pass 1: look at every volume, report every refusal. */
	int first = 0;
	for (size_t i = 0; i < s->n; i++) {
		int rc = look_at(&cfg->volumes[i], &s->volumes[i], hp);
		if (rc && !first)
			first = rc;
		if (rc >= 128)
			break; /* stopped by a signal: look no further */
	}
	if (first)
		return first;

	/* Pass 2: initialize and migrate. */
	for (size_t i = 0; i < s->n; i++) {
		int rc = s->volumes[i].must_act ? session_settle(&s->volumes[i].session, hp) : 0;
		if (rc) {
			note_migrated(cfg, s, i, rc);
			return rc;
		}
	}

	/* Pass 3: verify each volume at the version it is now at (one that
	 * migrated in this start was verified before its snapshot went). */
	for (size_t i = 0; i < s->n; i++) {
		struct session *h = &s->volumes[i].session;
		if (!h->v->verify || h->migrated_from >= 0)
			continue;
		int rc = look_again(&s->volumes[i], hp);
		if (rc) {
			note_migrated(cfg, s, i, rc);
			return rc;
		}
	}
	/* Done looking: from now on only each app's byte is held. */
	for (size_t i = 0; i < s->n; i++)
		session_hold(&s->volumes[i].session);
	return 0;
}

void startup_started(const struct config *cfg, struct startup *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct session *h = &s->volumes[i].session;
		if (h->lockfd >= 0) {
			/* Stale holders files go when holders are named, not here:
			 * a start on a current volume reads no directory. */
			h->holder.expects = cfg->volumes[i].expected;
			h->holder.migrating = false;
			holders_add(h->dirfd, &h->holder);
		}
		journal_event(h->dirfd, &cfg->volumes[i], "start", cfg->volumes[i].expected,
			      cfg->volumes[i].expected, NULL);
	}
}

void startup_journal(const struct config *cfg, const struct startup *s, const char *event,
		     const char *detail)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->volumes[i].session.lockfd >= 0)
			journal_event(s->volumes[i].session.dirfd, &cfg->volumes[i], event, -1,
				      cfg->volumes[i].expected, detail);
}

void startup_release(struct startup *s)
{
	for (size_t i = 0; i < s->n; i++)
		session_close(&s->volumes[i].session);
	free(s->volumes);
	s->volumes = NULL;
	s->n = 0;
}
