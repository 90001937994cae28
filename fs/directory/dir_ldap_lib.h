/* libldap, loaded by the first directory connection of a process
 * (dlopen), not linked: loading it brings in GnuTLS, p11-kit and SASL and
 * runs their initialisers (about 6 ms of CPU and 3 MiB of resident memory
 * in every process start, measured with an empty program), which a
 * sharesfs or afptest without LDAP map sources never needs.  Every libldap
 * function the directory layer calls is listed here once and called as
 * dir_ldap.NAME(...); the compiler checks each pointer against ldap.h.
 * liblber (ber_*: small, no TLS) stays linked. */
#ifndef SHARESFS_DIR_LDAP_LIB_H
#define SHARESFS_DIR_LDAP_LIB_H

#include <ldap.h>
#include <openldap.h>   /* ldap_init_fd */

#include "sharesfs/status.h"

#define DIR_LDAP_FUNCTIONS(X)                                                                                  \
    X(ldap_control_find) X(ldap_control_free) X(ldap_controls_free) X(ldap_create_page_control)              \
    X(ldap_err2string) X(ldap_first_attribute) X(ldap_first_message) X(ldap_get_dn) X(ldap_get_option)       \
    X(ldap_get_values_len) X(ldap_init_fd) X(ldap_install_tls) X(ldap_memfree) X(ldap_memvfree)              \
    X(ldap_msgfree) X(ldap_msgtype) X(ldap_next_attribute) X(ldap_next_message)                              \
    X(ldap_parse_pageresponse_control) X(ldap_parse_result) X(ldap_sasl_bind_s)                              \
    X(ldap_sasl_interactive_bind_s) X(ldap_search_ext_s) X(ldap_set_option) X(ldap_start_tls_s)              \
    X(ldap_unbind_ext_s) X(ldap_value_free_len)

struct dir_ldap_lib {
#define DIR_LDAP_POINTER(name) __typeof__(name) *name;
    DIR_LDAP_FUNCTIONS(DIR_LDAP_POINTER)
#undef DIR_LDAP_POINTER
};

/* Filled by dir_ldap_lib_open; NULL pointers before. */
extern struct dir_ldap_lib dir_ldap;

/* Loads libldap once per process (later calls return at once): 0, or
 * -ELIBACC with *ST (stage map) naming the library and why it did not
 * load.  Thread-safe. */
int dir_ldap_lib_open(struct sfs_status *st);

#endif
