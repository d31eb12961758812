// Power-loss simulation for the durability tests, loaded with LD_PRELOAD into the agent or head
// office. Each fsync/fdatasync of a file under $POWER_LOSS_DIR first copies the file to
// FILE.durable (atomically, by rename): the state a disk would keep if the power failed right after
// that sync. After killing the process, the test replaces every file with its .durable image (or
// removes it when it was never synced): every write not made durable by a sync is lost.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int watched_path(int fd, char *path, size_t size) {
    const char *dir = getenv("POWER_LOSS_DIR");
    if (dir == NULL || dir[0] == 0) return 0;
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t length = readlink(link, path, size - 1);
    if (length <= 0) return 0;
    path[length] = 0;
    size_t prefix = strlen(dir);
    if (strncmp(path, dir, prefix) != 0 || path[prefix] != '/') return 0;
    // The shared-memory index is rebuilt after a crash and never synced: not part of the disk image.
    if (length >= 4 && strcmp(path + length - 4, "-shm") == 0) return 0;
    return 1;
}

static void keep_durable_image(int fd) {
    char path[PATH_MAX], temporary[PATH_MAX + 16], durable[PATH_MAX + 16];
    if (!watched_path(fd, path, sizeof path)) return;
    snprintf(durable, sizeof durable, "%s.durable", path);
    snprintf(temporary, sizeof temporary, "%s.durable-tmp", path);
    int input = open(path, O_RDONLY | O_CLOEXEC);
    if (input < 0) return;
    int output = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (output < 0) {
        close(input);
        return;
    }
    char buffer[1 << 16];
    ssize_t count;
    while ((count = read(input, buffer, sizeof buffer)) > 0) {
        for (ssize_t done = 0; done < count;) {
            ssize_t written = write(output, buffer + done, (size_t)(count - done));
            if (written <= 0) break;
            done += written;
        }
    }
    close(input);
    close(output);
    // A kill before this rename leaves the previous image: the sync had not returned either.
    rename(temporary, durable);
}

int fsync(int fd) {
    static int (*real)(int);
    if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    keep_durable_image(fd);
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    keep_durable_image(fd);
    return real(fd);
}

// A file removed on purpose (SQLite deleting its WAL) must not come back from an old image.
int unlink(const char *path) {
    static int (*real)(const char *);
    if (real == NULL) real = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
    const char *dir = getenv("POWER_LOSS_DIR");
    if (dir != NULL && dir[0] != 0 && strncmp(path, dir, strlen(dir)) == 0 && path[strlen(dir)] == '/') {
        char durable[PATH_MAX + 16];
        snprintf(durable, sizeof durable, "%s.durable", path);
        real(durable);
    }
    return real(path);
}
