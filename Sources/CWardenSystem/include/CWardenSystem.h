// What Swift cannot call itself: prctl(2) is variadic, and glibc declares
// posix_spawn_file_actions_addclosefrom_np only for _GNU_SOURCE (defined in shim.c, not here:
// in a header it would change the system types every module shares). Nothing else belongs here.
#pragma once
#include <spawn.h>

/// The spawned child closes every descriptor from `from` up (glibc 2.34+); -1 where it cannot.
int warden_spawn_close_from(posix_spawn_file_actions_t *actions, int from);

#ifdef __linux__
#include <sys/prctl.h>

/// Orphaned descendants are re-parented to this process instead of init (PR_SET_CHILD_SUBREAPER).
static inline int warden_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }
/// Same-uid processes can no longer ptrace this one or read its memory (PR_SET_DUMPABLE 0).
static inline int warden_set_not_dumpable(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }
/// This process and its children can never gain privileges through exec (PR_SET_NO_NEW_PRIVS).
static inline int warden_set_no_new_privs(void) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }
#else
static inline int warden_set_child_subreaper(void) { return -1; }
static inline int warden_set_not_dumpable(void) { return -1; }
static inline int warden_set_no_new_privs(void) { return -1; }
#endif
