/* libsmbclient as loaded by smb_lib_open: its event contexts use tevent's
 * poll backend, which opens no epoll descriptor (the epoll backend made
 * one, with an fcntl and an epoll_ctl per fd, for every synchronous call). */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sharesfs/status.h"
#include "smb/smb_lib.h"

/* Open descriptors of this process that are epoll instances. */
static int count_epoll_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char path[300], target[128];
        snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
        ssize_t len = readlink(path, target, sizeof(target) - 1);
        if (len <= 0)
            continue;
        target[len] = '\0';
        if (strstr(target, "[eventpoll]"))
            n++;
    }
    closedir(d);
    return n;
}

static void test_event_contexts_use_poll(void **state)
{
    (void)state;
    struct sfs_status st = {0};
    assert_int_equal(smb_lib_open(SFS_STAGE_MOUNT, &st), 0);
    /* Samba's tevent came with libsmbclient: no test without it. */
    void *(*context_init)(void *) = (void *(*)(void *))dlsym(RTLD_DEFAULT, "tevent_context_init");
    int (*talloc_free_at)(void *, const char *) = (int (*)(void *, const char *))dlsym(RTLD_DEFAULT, "_talloc_free");
    const char **(*backends)(void *) = (const char **(*)(void *))dlsym(RTLD_DEFAULT, "tevent_backend_list");
    if (!context_init || !talloc_free_at || !backends)
        fail_msg("libsmbclient's tevent/talloc symbols are missing: %s", dlerror());
    /* The epoll backend exists here, so no epoll fd means it was not chosen. */
    const char **names = backends(NULL);
    bool has_epoll = false;
    for (size_t i = 0; names && names[i]; i++)
        has_epoll |= strcmp(names[i], "epoll") == 0;
    talloc_free_at(names, __FILE__);
    assert_true(has_epoll);
    int before = count_epoll_fds();
    void *ev = context_init(NULL);
    assert_non_null(ev);
    assert_int_equal(count_epoll_fds(), before);
    talloc_free_at(ev, __FILE__);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_contexts_use_poll),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
