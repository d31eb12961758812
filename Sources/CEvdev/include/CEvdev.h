#ifndef CEVDEV_H
#define CEVDEV_H
// The evdev ioctls are function-like macros that do not import into Swift: tiny wrappers here.
#include <linux/input.h>
#include <sys/ioctl.h>

/// Grabs (1) or releases (0) the device: while grabbed, its key events reach only us.
static inline int cevdev_grab(int fd, int grab) { return ioctl(fd, EVIOCGRAB, (void *)(long)grab); }
/// The device's name into `buffer`; returns its length or -1.
static inline int cevdev_name(int fd, char *buffer, int length) { return ioctl(fd, EVIOCGNAME(length), buffer); }
/// Bus, vendor, product, version.
static inline int cevdev_id(int fd, struct input_id *id) { return ioctl(fd, EVIOCGID, id); }
/// Bitmask of keys currently down (re-read after SYN_DROPPED).
static inline int cevdev_key_state(int fd, unsigned char *bits, int length) { return ioctl(fd, EVIOCGKEY(length), bits); }

static inline long long cevdev_event_seconds(const struct input_event *event) { return (long long)event->input_event_sec; }
static inline long long cevdev_event_microseconds(const struct input_event *event) { return (long long)event->input_event_usec; }
#endif
