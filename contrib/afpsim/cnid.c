/* Node IDs (CNIDs): a table (volume, parent ID, name) <-> ID in shared
 * memory, so that every session process sees the same IDs for the whole
 * lifetime of the server.  IDs follow objects that afpsim renames or moves;
 * an object deleted through afpsim loses its ID.  The root directory of
 * every volume is 2 and its parent 1; other IDs count up from first_cnid
 * (netatalk starts at 17) per volume.
 *
 * Layout of the mapping: header, entries, two hash bucket arrays (by key,
 * by ID), and an append-only name arena.  The mapping is reserved with
 * MAP_NORESERVE, so only pages actually used cost memory. */
#include "afpsim.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

struct cnid_entry {
    uint32_t id;
    uint32_t parent;
    uint32_t next_key;      /* bucket chains; also the free list link */
    uint32_t next_id;
    uint64_t name_off;
    uint16_t name_len;
    uint16_t vol;
    uint32_t used;
};

struct cnid_header {
    pthread_mutex_t lock;
    uint32_t cap;           /* entries, index 0 unused */
    uint32_t nbuckets;
    uint32_t next_slot;     /* never used yet */
    uint32_t free_list;
    uint32_t first_id;
    uint32_t next_id[AFPSIM_MAX_VOLUMES + 1];
    uint64_t names_used;
    uint64_t names_cap;
};

static struct cnid_header *hdr;
static struct cnid_entry *ent;
static uint32_t *bkey, *bid;
static char *names;

static uint32_t hash_key(uint16_t vol, uint32_t parent, const char *name, size_t len)
{
    uint32_t h = 2166136261u;
    h = (h ^ vol) * 16777619u;
    for (int i = 0; i < 4; i++)
        h = (h ^ ((parent >> (8 * i)) & 0xff)) * 16777619u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)name[i]) * 16777619u;
    return h;
}

static uint32_t hash_id(uint16_t vol, uint32_t id)
{
    uint32_t h = id * 2654435761u;
    return h ^ ((uint32_t)vol * 40503u);
}

int cnid_init(uint32_t max_nodes)
{
    uint32_t nb = 1;
    while (nb < max_nodes)
        nb <<= 1;
    size_t off_ent = (sizeof(struct cnid_header) + 63) & ~(size_t)63;
    size_t off_bkey = off_ent + (size_t)(max_nodes + 1) * sizeof(struct cnid_entry);
    size_t off_bid = off_bkey + (size_t)nb * sizeof(uint32_t);
    size_t off_names = off_bid + (size_t)nb * sizeof(uint32_t);
    size_t names_cap = (size_t)max_nodes * 64;
    size_t total = off_names + names_cap;

    void *m = mmap(NULL, total, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return -errno;
    hdr = m;
    ent = (struct cnid_entry *)((char *)m + off_ent);
    bkey = (uint32_t *)((char *)m + off_bkey);
    bid = (uint32_t *)((char *)m + off_bid);
    names = (char *)m + off_names;

    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&hdr->lock, &a);
    pthread_mutexattr_destroy(&a);
    hdr->cap = max_nodes;
    hdr->nbuckets = nb;
    hdr->next_slot = 1;
    hdr->free_list = 0;
    hdr->first_id = 17;
    hdr->names_used = 0;
    hdr->names_cap = names_cap;
    return 0;
}

void cnid_set_first(uint32_t first)
{
    hdr->first_id = first < 3 ? 3 : first;
}

static void lock(void)
{
    int rc = pthread_mutex_lock(&hdr->lock);
    if (rc == EOWNERDEAD) {
        /* A session died holding the lock; the table itself is only ever
         * changed in steps that leave it consistent enough to go on. */
        pthread_mutex_consistent(&hdr->lock);
    }
}

static void unlock(void)
{
    pthread_mutex_unlock(&hdr->lock);
}

static uint32_t find_locked(uint16_t vol, uint32_t parent, const char *name, size_t len)
{
    uint32_t b = hash_key(vol, parent, name, len) & (hdr->nbuckets - 1);
    for (uint32_t i = bkey[b]; i; i = ent[i].next_key) {
        struct cnid_entry *e = &ent[i];
        if (e->vol == vol && e->parent == parent && e->name_len == len &&
            memcmp(names + e->name_off, name, len) == 0)
            return i;
    }
    return 0;
}

static uint32_t find_id_locked(uint16_t vol, uint32_t id)
{
    uint32_t b = hash_id(vol, id) & (hdr->nbuckets - 1);
    for (uint32_t i = bid[b]; i; i = ent[i].next_id)
        if (ent[i].vol == vol && ent[i].id == id)
            return i;
    return 0;
}

static void link_key(uint32_t i)
{
    struct cnid_entry *e = &ent[i];
    uint32_t b = hash_key(e->vol, e->parent, names + e->name_off, e->name_len) & (hdr->nbuckets - 1);
    e->next_key = bkey[b];
    bkey[b] = i;
}

static void unlink_key(uint32_t i)
{
    struct cnid_entry *e = &ent[i];
    uint32_t b = hash_key(e->vol, e->parent, names + e->name_off, e->name_len) & (hdr->nbuckets - 1);
    for (uint32_t *pp = &bkey[b]; *pp; pp = &ent[*pp].next_key)
        if (*pp == i) {
            *pp = e->next_key;
            return;
        }
}

static void unlink_id(uint32_t i)
{
    struct cnid_entry *e = &ent[i];
    uint32_t b = hash_id(e->vol, e->id) & (hdr->nbuckets - 1);
    for (uint32_t *pp = &bid[b]; *pp; pp = &ent[*pp].next_id)
        if (*pp == i) {
            *pp = e->next_id;
            return;
        }
}

static bool store_name(struct cnid_entry *e, const char *name, size_t len)
{
    if (len > AFPSIM_NAME_MAX || hdr->names_used + len > hdr->names_cap)
        return false;
    memcpy(names + hdr->names_used, name, len);
    e->name_off = hdr->names_used;
    e->name_len = (uint16_t)len;
    hdr->names_used += len;
    return true;
}

uint32_t cnid_find(uint16_t vol, uint32_t parent, const char *name)
{
    size_t len = strlen(name);
    lock();
    uint32_t i = find_locked(vol, parent, name, len);
    uint32_t id = i ? ent[i].id : 0;
    unlock();
    return id;
}

uint32_t cnid_get(uint16_t vol, uint32_t parent, const char *name)
{
    size_t len = strlen(name);
    uint32_t id = 0;
    if (vol > AFPSIM_MAX_VOLUMES)
        return 0;
    lock();
    uint32_t i = find_locked(vol, parent, name, len);
    if (i) {
        id = ent[i].id;
        goto out;
    }
    if (hdr->free_list) {
        i = hdr->free_list;
        hdr->free_list = ent[i].next_key;
    } else if (hdr->next_slot <= hdr->cap) {
        i = hdr->next_slot++;
    } else {
        goto out;
    }
    struct cnid_entry *e = &ent[i];
    if (!store_name(e, name, len)) {
        e->next_key = hdr->free_list;
        hdr->free_list = i;
        goto out;
    }
    if (hdr->next_id[vol] == 0)
        hdr->next_id[vol] = hdr->first_id;
    if (hdr->next_id[vol] == UINT32_MAX) {
        e->next_key = hdr->free_list;
        hdr->free_list = i;
        goto out;
    }
    e->id = hdr->next_id[vol]++;
    e->parent = parent;
    e->vol = vol;
    e->used = 1;
    link_key(i);
    uint32_t b = hash_id(vol, e->id) & (hdr->nbuckets - 1);
    e->next_id = bid[b];
    bid[b] = i;
    id = e->id;
out:
    unlock();
    return id;
}

bool cnid_lookup(uint16_t vol, uint32_t id, uint32_t *parent, char *name, size_t namesz)
{
    if (id == CNID_ROOT) {
        *parent = CNID_ROOT_PARENT;
        if (namesz)
            name[0] = '\0';
        return true;
    }
    bool ok = false;
    lock();
    uint32_t i = find_id_locked(vol, id);
    if (i && ent[i].name_len < namesz) {
        *parent = ent[i].parent;
        memcpy(name, names + ent[i].name_off, ent[i].name_len);
        name[ent[i].name_len] = '\0';
        ok = true;
    }
    unlock();
    return ok;
}

void cnid_move(uint16_t vol, uint32_t id, uint32_t new_parent, const char *new_name)
{
    size_t len = strlen(new_name);
    lock();
    /* Whatever was known under the new name is gone now (replaced). */
    uint32_t old = find_locked(vol, new_parent, new_name, len);
    uint32_t i = find_id_locked(vol, id);
    if (old && old != i) {
        unlink_key(old);
        unlink_id(old);
        ent[old].used = 0;
        ent[old].next_key = hdr->free_list;
        hdr->free_list = old;
    }
    if (i) {
        unlink_key(i);
        ent[i].parent = new_parent;
        if (!(ent[i].name_len == len && memcmp(names + ent[i].name_off, new_name, len) == 0))
            store_name(&ent[i], new_name, len);
        link_key(i);
    }
    unlock();
}

void cnid_remove(uint16_t vol, uint32_t id)
{
    if (id <= CNID_ROOT)
        return;
    lock();
    uint32_t i = find_id_locked(vol, id);
    if (i) {
        unlink_key(i);
        unlink_id(i);
        ent[i].used = 0;
        ent[i].next_key = hdr->free_list;
        hdr->free_list = i;
    }
    unlock();
}
