/* self: who this volinit is, as the journal, the holders files and the
 * dirty marker name it: host name, pid, image (VOLINIT_IMAGE). Looked up
 * once: a start writes them several times. */
#ifndef VOLINIT_SELF_H
#define VOLINIT_SELF_H

const char *self_host(void); /* "unknown" when gethostname fails */
long self_pid(void);
const char *self_image(void); /* "" when VOLINIT_IMAGE is unset */

#endif
