/* `afptest matrix plan`: the cells, and an Ansible INI inventory that
 * splits them over N client hosts (each host's cells as a host variable,
 * balanced by their number of entries, largest first). */
#include <string.h>

#include "matrix.h"

static int by_weight(gconstpointer a, gconstpointer b)
{
    const struct mx_cell *x = *(struct mx_cell *const *)a, *y = *(struct mx_cell *const *)b;
    int d = (int)y->target->shares->len - (int)x->target->shares->len;
    return d ? d : strcmp(x->id, y->id);
}

void mx_plan(FILE *out, const struct mx_matrix *m, GPtrArray *cells, int hosts)
{
    GPtrArray *run = g_ptr_array_new();
    unsigned excluded = 0;
    for (guint i = 0; i < cells->len; i++) {
        struct mx_cell *c = cells->pdata[i];
        if (c->excluded)
            excluded++;
        else
            g_ptr_array_add(run, c);
    }
    fprintf(out, "# afptest matrix plan %s: %u cells to run, %u excluded, over %d client host%s\n", m->file,
            run->len, excluded, hosts, hosts == 1 ? "" : "s");
    for (guint i = 0; i < cells->len; i++) {
        const struct mx_cell *c = cells->pdata[i];
        if (c->excluded)
            fprintf(out, "#   excluded %s: %s\n", c->id, c->reason);
    }
    g_ptr_array_sort(run, by_weight);
    GString **lists = g_new0(GString *, (gsize)hosts);
    unsigned *load = g_new0(unsigned, (gsize)hosts);
    for (int h = 0; h < hosts; h++)
        lists[h] = g_string_new(NULL);
    for (guint i = 0; i < run->len; i++) {
        const struct mx_cell *c = run->pdata[i];
        int best = 0;
        for (int h = 1; h < hosts; h++)
            if (load[h] < load[best])
                best = h;
        load[best] += c->target->shares->len;
        g_string_append_printf(lists[best], "%s%s", lists[best]->len ? "," : "", c->id);
        fprintf(out, "#   client%d: %s (%u entries, %s target)\n", best + 1, c->id, c->target->shares->len,
                mx_target_kind_name(c->target->kind));
    }
    fprintf(out, "\n[sharesfs_matrix_clients]\n");
    for (int h = 0; h < hosts; h++) {
        fprintf(out, "client%d matrix_cells=\"%s\" matrix_entries=%u\n", h + 1, lists[h]->str, load[h]);
        g_string_free(lists[h], TRUE);
    }
    fprintf(out, "\n[sharesfs_matrix_clients:vars]\nmatrix_file=\"%s\"\n", m->file);
    g_free(lists);
    g_free(load);
    g_ptr_array_free(run, TRUE);
}
