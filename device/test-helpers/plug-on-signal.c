// Plug-on-signal driver for the daemon and page tests: run under `umockdev-wrapper`. Creates an empty
// umockdev testbed and starts the agent (argv after "--") with no device present. Each SIGUSR1 plugs
// in the next device given, with its recorded key events, so a test decides when a scan happens (a
// page is open, a setting was reloaded). SIGHUP is passed on to the agent; SIGTERM too, and then the
// helper waits for the agent and exits with its status.
//   plug-on-signal DESC.umockdev SYSPATH DEVNODE EVENTS.evemu [DESC SYSPATH DEVNODE EVENTS ...] -- AGENT ARGS...
// Prints "plug-on-signal: plugged DEVNODE" on stderr after each plug.
// Exit status: the agent's own (or 100 + signal if it was killed by one), 2 on bad usage.
#include <umockdev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int plug(UMockdevTestbed *testbed, const char *path, const char *syspath, const char *devnode, const char *events) {
    gchar *description = NULL;
    GError *error = NULL;
    if (!g_file_get_contents(path, &description, NULL, NULL)) {
        fprintf(stderr, "plug-on-signal: cannot read %s\n", path);
        return 0;
    }
    int ok = umockdev_testbed_add_from_string(testbed, description, &error) &&
             umockdev_testbed_load_evemu_events(testbed, devnode, events, &error);
    g_free(description);
    if (!ok) {
        fprintf(stderr, "plug-on-signal: %s\n", error ? error->message : "cannot add the device");
        return 0;
    }
    umockdev_testbed_uevent(testbed, syspath, "add");
    fprintf(stderr, "plug-on-signal: plugged %s\n", devnode);
    return 1;
}

int main(int argc, char **argv) {
    int separator = 1;
    while (separator < argc && strcmp(argv[separator], "--") != 0) separator++;
    int devices = (separator - 1) / 4;
    if (separator >= argc - 1 || (separator - 1) % 4 != 0) {
        fprintf(stderr, "usage: plug-on-signal DESC SYSPATH DEVNODE EVENTS [...] -- AGENT ARGS...\n");
        return 2;
    }
    UMockdevTestbed *testbed = umockdev_testbed_new();

    sigset_t handled;
    sigemptyset(&handled);
    sigaddset(&handled, SIGUSR1);
    sigaddset(&handled, SIGHUP);
    sigaddset(&handled, SIGTERM);
    sigaddset(&handled, SIGINT);
    sigaddset(&handled, SIGCHLD);
    sigprocmask(SIG_BLOCK, &handled, NULL);

    pid_t agent = fork();
    if (agent == 0) {
        sigprocmask(SIG_UNBLOCK, &handled, NULL);
        execv(argv[separator + 1], &argv[separator + 1]);
        perror("plug-on-signal: exec");
        _exit(127);
    }
    int next = 0;
    for (;;) {
        int signal = 0;
        sigwait(&handled, &signal);
        if (signal == SIGUSR1) {
            if (next < devices) {
                const int base = 1 + 4 * next++;
                if (!plug(testbed, argv[base], argv[base + 1], argv[base + 2], argv[base + 3])) kill(agent, SIGTERM);
            } else {
                fprintf(stderr, "plug-on-signal: no device left to plug\n");
            }
        } else if (signal == SIGHUP || signal == SIGTERM || signal == SIGINT) {
            kill(agent, signal);
        }
        int status = 0;
        if (waitpid(agent, &status, WNOHANG) == agent) {
            g_object_unref(testbed);
            if (WIFSIGNALED(status)) return 100 + WTERMSIG(status);
            return WEXITSTATUS(status);
        }
    }
}
