/* commands: the subcommands an operator runs by hand: check, status,
 * migrate, stamp. */
#ifndef VOLINIT_COMMANDS_H
#define VOLINIT_COMMANDS_H

#include <stdbool.h>

#include "config.h"
#include "privs.h"

enum command { CMD_RUN, CMD_CHECK, CMD_MIGRATE, CMD_STATUS, CMD_STAMP };

/* Exits with the code a start would refuse with; only reads. */
int command_check(const struct config *cfg, bool json, const struct privs *privs);
/* What is on the volumes, read offline; 0 when every volume could be read. */
int command_status(const struct config *cfg, bool json);
/* Brings every volume to its expected version, whatever on_older says. */
int command_migrate(const struct config *cfg, const struct privs *hooks, bool dry_run);
/* Sets a volume's version without hooks and clears dirty. */
int command_stamp(const struct config *cfg, const char *volume, const char *version);

#endif
