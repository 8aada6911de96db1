/* imagemap: which local binary stands for a container image (images are never pulled):
 * entries "IMAGE=PATH" from --image-map flags and --image-map-file lines. An image matches an
 * entry exactly, or by its name without tag and digest ("task-executor:v1" matches an entry
 * "task-executor"). */
#ifndef KUBELET_IMAGEMAP_H
#define KUBELET_IMAGEMAP_H

#include <stddef.h>

typedef struct imagemap imagemap_t;

imagemap_t *imagemap_new(void);
void imagemap_free(imagemap_t *m);
/* Adds "IMAGE=PATH" (a later entry for the same image wins). 0, or -1 with a message. */
int imagemap_add(imagemap_t *m, const char *entry, char *err, size_t errlen);
/* Loads a file of "image=path" lines ('#' comments and blank lines skipped). 0, or -1 with a
 * message naming the file and line. */
int imagemap_load_file(imagemap_t *m, const char *path, char *err, size_t errlen);
/* The binary for image (borrowed), or NULL. */
const char *imagemap_lookup(const imagemap_t *m, const char *image);
size_t imagemap_count(const imagemap_t *m);

#endif
