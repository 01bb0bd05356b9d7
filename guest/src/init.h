/* PID 1 duties in the guest: early mounts, kernel modules, switching to the
 * root disk, basic system setup, finding the agent's virtio port, power off. */
#ifndef PYRO_INIT_H
#define PYRO_INIT_H

/* Everything up to a usable root filesystem. Returns 0, or -1 when the VM is unusable. */
int guest_setup(void);
/* Waits for the virtio-serial port named org.pyro.agent; returns an O_NONBLOCK|O_CLOEXEC fd or -1. */
int guest_open_channel(void);
/* Kills everything but PID 1 and reaps it, waiting at most ms. */
void guest_kill_all(int ms);
/* Makes the disk consistent and powers off; never returns (PID 1 must not exit). */
void guest_poweroff(void) __attribute__((noreturn));

#endif
