/* The fields of statuses and targets in worker frames. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sharesfs/auth.h"
#include "worker.h"

void sfs_worker_wire_put_status(struct sfs_wire_out *w, const struct sfs_status *st)
{
    sfs_wire_put_u32(w, (uint32_t)st->stage);
    sfs_wire_put_i64(w, st->err);
    sfs_wire_put_u32(w, (uint32_t)st->domain);
    sfs_wire_put_i64(w, st->code);
    sfs_wire_put_str(w, st->detail);
}

void sfs_worker_wire_get_status(struct sfs_wire_in *r, struct sfs_status *st)
{
    st->stage = (enum sfs_stage)sfs_wire_get_u32(r);
    st->err = (int)sfs_wire_get_i64(r);
    st->domain = (enum sfs_domain)sfs_wire_get_u32(r);
    st->code = (long)sfs_wire_get_i64(r);
    sfs_wire_get_str_into(r, st->detail, sizeof(st->detail));
}

void sfs_worker_wire_put_target(struct sfs_wire_out *w, const struct sfs_target *t)
{
    const struct sfs_url *u = t->url;
    sfs_wire_put_str(w, t->label);
    sfs_wire_put_u32(w, (uint32_t)u->proto);
    sfs_wire_put_str(w, u->user);
    sfs_wire_put_str(w, u->password);
    sfs_wire_put_str(w, u->domain);
    sfs_wire_put_str(w, u->auth);
    sfs_wire_put_str(w, u->host);
    sfs_wire_put_u32(w, u->host_is_ipv6);
    sfs_wire_put_i64(w, u->port);
    sfs_wire_put_str(w, u->share);
    sfs_wire_put_str(w, u->path);
    sfs_wire_put_str(w, t->creds.user);
    sfs_wire_put_str(w, t->creds.domain);
    sfs_wire_put_str(w, t->creds.password);
    sfs_wire_put_u32(w, (uint32_t)t->auth.kind);
    sfs_wire_put_str(w, t->auth.uam);
    sfs_wire_put_str(w, t->auth.module);
    sfs_wire_put_u32(w, t->auth.auto_krb5);
    sfs_wire_put_str(w, t->dialect_min);
    sfs_wire_put_str(w, t->dialect_max);
    sfs_wire_put_i64(w, t->timeout_ms);
    sfs_wire_put_u32(w, t->allow_cleartext);
    sfs_wire_put_str(w, t->client_conf);
    sfs_wire_put_str(w, t->krb5_ccache);
}

int sfs_worker_wire_get_target(struct sfs_wire_in *r, struct sfs_worker_target *out)
{
    memset(out, 0, sizeof(*out));
    struct sfs_target *t = &out->t;
    struct sfs_url *u = &out->url;
    out->label = sfs_wire_get_str(r);
    u->proto = (enum sfs_proto)sfs_wire_get_u32(r);
    u->user = sfs_wire_get_str(r);
    u->password = sfs_wire_get_str(r);
    u->domain = sfs_wire_get_str(r);
    u->auth = sfs_wire_get_str(r);
    u->host = sfs_wire_get_str(r);
    u->host_is_ipv6 = sfs_wire_get_u32(r) != 0;
    u->port = (int)sfs_wire_get_i64(r);
    u->share = sfs_wire_get_str(r);
    u->path = sfs_wire_get_str(r);
    t->creds.user = sfs_wire_get_str(r);
    t->creds.domain = sfs_wire_get_str(r);
    t->creds.password = sfs_wire_get_str(r);
    t->creds.source = "the sharesfs process";
    t->auth.kind = (enum sfs_auth_kind)sfs_wire_get_u32(r);
    sfs_wire_get_str_into(r, t->auth.uam, sizeof(t->auth.uam));
    out->module = sfs_wire_get_str(r);
    t->auth.module = out->module;
    t->auth.auto_krb5 = sfs_wire_get_u32(r) != 0;
    sfs_wire_get_str_into(r, t->dialect_min, sizeof(t->dialect_min));
    sfs_wire_get_str_into(r, t->dialect_max, sizeof(t->dialect_max));
    t->timeout_ms = (int)sfs_wire_get_i64(r);
    t->allow_cleartext = sfs_wire_get_u32(r) != 0;
    t->client_conf = sfs_wire_get_str(r);
    t->krb5_ccache = sfs_wire_get_str(r);
    t->label = out->label;
    t->url = u;
    if (r->bad || !u->host || !u->share) {
        sfs_worker_wire_target_free(out);
        return -EPROTO;
    }
    return 0;
}

void sfs_worker_wire_target_free(struct sfs_worker_target *wt)
{
    sfs_credentials_free(&wt->t.creds);
    free((char *)wt->t.krb5_ccache);
    free((char *)wt->t.client_conf);
    sfs_url_free(&wt->url);
    free(wt->label);
    free(wt->module);
    memset(wt, 0, sizeof(*wt));
}
