#include "CConcurrencyHook.h"

// Declared by the Swift runtime (GlobalExecutor.cpp) as a function pointer; only its address is taken.
extern void *swift_task_enqueueGlobal_hook;

void **loyalty_swift_task_enqueue_global_hook(void) {
    return &swift_task_enqueueGlobal_hook;
}
