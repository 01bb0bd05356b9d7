/* Least privilege for pyro-netstack once its stack is up: an unprivileged user, no new
 * privileges, death with its supervisor, and a seccomp filter allowing only what it uses. */
#ifndef PYRO_HARDENING_H
#define PYRO_HARDENING_H

#include <stdio.h>
#include <sys/types.h>

/* Applies everything, in the order that keeps each in force; exits on failure. supervisor is
 * the parent's pid as seen at start: if it has already gone, the helper exits at once. */
void harden(pid_t supervisor);

/* Prints what is in force, as the kernel reports it (one "name value" line each). */
void hardening_report(FILE *out);

#endif
