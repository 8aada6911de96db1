/* imagemap: the image -> local binary table of the kubelet (flags and file parsing, lookup by
 * exact image or by name without tag/digest). */
#include "kubelet/imagemap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *image, *path;
} entry_t;

struct imagemap {
    entry_t *e;
    size_t n, cap;
};

imagemap_t *imagemap_new(void)
{
    return calloc(1, sizeof(imagemap_t));
}

void imagemap_free(imagemap_t *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->e[i].image);
        free(m->e[i].path);
    }
    free(m->e);
    free(m);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

int imagemap_add(imagemap_t *m, const char *entry, char *err, size_t errlen)
{
    char *copy = strdup(entry);
    char *eq = strchr(copy, '=');
    if (!eq) {
        snprintf(err, errlen, "image map entry \"%s\": expected IMAGE=PATH", entry);
        free(copy);
        return -1;
    }
    *eq = '\0';
    char *img = trim(copy), *path = trim(eq + 1);
    if (!*img || !*path) {
        snprintf(err, errlen, "image map entry \"%s\": expected IMAGE=PATH", entry);
        free(copy);
        return -1;
    }
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->e[i].image, img) == 0) {
            free(m->e[i].path);
            m->e[i].path = strdup(path);
            free(copy);
            return 0;
        }
    if (m->n == m->cap) m->e = realloc(m->e, (m->cap = m->cap ? m->cap * 2 : 8) * sizeof *m->e);
    m->e[m->n].image = strdup(img);
    m->e[m->n].path = strdup(path);
    m->n++;
    free(copy);
    return 0;
}

int imagemap_load_file(imagemap_t *m, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "image map file %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#') continue;
        char e2[512];
        if (imagemap_add(m, s, e2, sizeof e2) != 0) {
            snprintf(err, errlen, "image map file %s, line %d: %s", path, lineno, e2);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

/* The image name without "@digest" and without ":tag" (a ':' after the last '/'). */
static void strip_tag(const char *image, char *buf, size_t len)
{
    snprintf(buf, len, "%s", image);
    char *at = strchr(buf, '@');
    if (at) *at = '\0';
    char *slash = strrchr(buf, '/');
    char *colon = strrchr(buf, ':');
    if (colon && (!slash || colon > slash)) *colon = '\0';
}

const char *imagemap_lookup(const imagemap_t *m, const char *image)
{
    if (!m || !image || !*image) return NULL;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->e[i].image, image) == 0) return m->e[i].path;
    char bare[1024];
    strip_tag(image, bare, sizeof bare);
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->e[i].image, bare) == 0) return m->e[i].path;
    return NULL;
}

size_t imagemap_count(const imagemap_t *m)
{
    return m ? m->n : 0;
}
