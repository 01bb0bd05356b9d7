/* The host's own IPv4 addresses, which a guest must never reach through NAT. */
#ifndef PYRO_HOST_ADDRS_H
#define PYRO_HOST_ADDRS_H

#include "frame-filter.h"

/* Replaces policy->host with the IPv4 addresses of every interface (getifaddrs). On failure the
 * previous list is kept and -1 returned. */
int host_addrs_refresh(struct ff_policy *policy);

#endif
