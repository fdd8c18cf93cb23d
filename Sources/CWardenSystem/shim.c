// _GNU_SOURCE here only: glibc declares posix_spawn_file_actions_addclosefrom_np under it.
#define _GNU_SOURCE
#include <spawn.h>
#include "CWardenSystem.h"

int warden_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
#if defined(__linux__) && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
#else
    (void)actions;
    (void)from;
    return -1;
#endif
}
