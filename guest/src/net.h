/* The guest's network interface, configured from the kernel command line. */
#ifndef PYRO_NET_H
#define PYRO_NET_H

/* spec is the value of pyro.net=ADDRESS/PREFIX,GATEWAY,DNS,MTU (DNS may be "-").
 * Brings eth0 up with a default route and writes /etc/resolv.conf.
 * Returns 0, or -1 with the reason logged (the VM stays usable without a network). */
int guest_network_setup(const char *spec);

#endif
