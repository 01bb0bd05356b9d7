#include "host-addrs.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

int host_addrs_refresh(struct ff_policy *policy)
{
	struct ifaddrs *list;
	if (getifaddrs(&list) < 0)
		return -1;
	size_t n = 0;
	for (struct ifaddrs *ifa = list; ifa && n < FF_MAX_HOST_ADDRS; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_INET)
			continue;
		uint32_t addr = ntohl(((const struct sockaddr_in *)(const void *)ifa->ifa_addr)->sin_addr.s_addr);
		bool seen = false;
		for (size_t i = 0; i < n && !seen; i++)
			seen = policy->host[i] == addr;
		if (!seen)
			policy->host[n++] = addr;
	}
	freeifaddrs(list);
	policy->n_host = n;
	return 0;
}
