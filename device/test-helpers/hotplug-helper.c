// Hot-plug driver for the scanner tests: run under `umockdev-wrapper`. Creates an empty umockdev
// testbed, starts the agent (argv after "--"), then plugs the device in, unplugs it and plugs it in
// again, each time with its recorded key events, and finally stops the agent with SIGTERM. The
// replug uses a second description (another event number, as a real replug often gets): umockdev
// cannot re-create a removed node under the same name.
//   hotplug-helper EVENTS.evemu FIRST.umockdev SYSPATH DEVNODE SECOND.umockdev SYSPATH DEVNODE -- AGENT ARGS...
// Exit status: the agent's own exit status (or 100 + signal if it crashed).
#include <umockdev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void pause_ms(int ms) { usleep((useconds_t)ms * 1000); }

static int plug(UMockdevTestbed *testbed, const char *description, const char *syspath, const char *devnode, const char *events) {
    GError *error = NULL;
    if (!umockdev_testbed_add_from_string(testbed, description, &error)) {
        fprintf(stderr, "hotplug-helper: add: %s\n", error->message);
        return 0;
    }
    if (!umockdev_testbed_load_evemu_events(testbed, devnode, events, &error)) {
        fprintf(stderr, "hotplug-helper: evemu: %s\n", error->message);
        return 0;
    }
    umockdev_testbed_uevent(testbed, syspath, "add");
    fprintf(stderr, "hotplug-helper: plugged %s\n", devnode);
    return 1;
}

static void unplug(UMockdevTestbed *testbed, const char *syspath) {
    umockdev_testbed_uevent(testbed, syspath, "remove");
    umockdev_testbed_remove_device(testbed, syspath);
    fprintf(stderr, "hotplug-helper: unplugged\n");
}

int main(int argc, char **argv) {
    if (argc < 10 || strcmp(argv[8], "--") != 0) {
        fprintf(stderr, "usage: hotplug-helper EVENTS.evemu FIRST.umockdev SYSPATH DEVNODE SECOND.umockdev SYSPATH DEVNODE -- AGENT ARGS...\n");
        return 2;
    }
    const char *events = argv[1];
    gchar *first = NULL, *second = NULL;
    if (!g_file_get_contents(argv[2], &first, NULL, NULL) || !g_file_get_contents(argv[5], &second, NULL, NULL)) {
        fprintf(stderr, "hotplug-helper: cannot read the device descriptions\n");
        return 2;
    }
    UMockdevTestbed *testbed = umockdev_testbed_new();

    pid_t agent = fork();
    if (agent == 0) {
        execv(argv[9], &argv[9]);
        perror("hotplug-helper: exec");
        _exit(127);
    }
    pause_ms(1500);  // the agent starts with no scanner present
    if (!plug(testbed, first, argv[3], argv[4], events)) return 3;
    pause_ms(2000);
    unplug(testbed, argv[3]);
    pause_ms(1000);
    if (!plug(testbed, second, argv[6], argv[7], events)) return 3;
    pause_ms(2000);
    unplug(testbed, argv[6]);
    pause_ms(500);
    kill(agent, SIGTERM);
    int status = 0;
    waitpid(agent, &status, 0);
    g_object_unref(testbed);
    if (WIFSIGNALED(status)) return 100 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
