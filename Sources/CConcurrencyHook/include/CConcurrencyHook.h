#ifndef C_CONCURRENCY_HOOK_H
#define C_CONCURRENCY_HOOK_H

/// The address of the Swift runtime's `swift_task_enqueueGlobal_hook`. With the runtime linked
/// statically the symbol is not exported, so it cannot be found with dlsym; the linker resolves it here.
void **loyalty_swift_task_enqueue_global_hook(void);

#endif
