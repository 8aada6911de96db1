/* volumes: a pod's volumes on the host: which types run (emptyDir, hostPath, configMap,
 * secret), their per-pod directories (<pod dir>/volumes/<name>, files written for ConfigMap and
 * Secret keys), and the bind mounts each container gets (only the volumes it mounts, at
 * mountPath, with subPath and readOnly). */
#include "kubelet/kubelet_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/jsonx.h"
#include "kubelet/envexpand.h"

static const char *const supported[] = {"emptyDir", "hostPath", "configMap", "secret", NULL};

static const char *volume_type(json_t *v, const char **unknown)
{
    *unknown = NULL;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        if (strcmp(k, "name") == 0) continue;
        for (int i = 0; supported[i]; i++)
            if (strcmp(k, supported[i]) == 0) return supported[i];
        if (!*unknown) *unknown = k;
    }
    return NULL;
}

static json_t *find_volume(kl_pod_t *p, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(jsonx_get(p->spec_obj, "spec.volumes"), i,
                       v) if (strcmp(jsonx_str(v, "name", ""), name) == 0) return v;
    return NULL;
}

char *volumes_check(kl_pod_t *p)
{
    char *msg = NULL;
    size_t i;
    json_t *v;
    json_array_foreach(jsonx_get(p->spec_obj, "spec.volumes"), i, v)
    {
        const char *unknown;
        if (!volume_type(v, &unknown)) {
            if (asprintf(&msg,
                         "volume \"%s\": unsupported volume type \"%s\" (localcluster runs "
                         "emptyDir, hostPath, configMap and secret volumes)",
                         jsonx_str(v, "name", ""), unknown ? unknown : "<none>") < 0)
                msg = NULL;
            return msg;
        }
    }
    for (size_t k = 0; k < p->n_init + p->n_ctrs; k++) {
        kl_ctr_t *c = k < p->n_init ? &p->init[k] : &p->ctrs[k - p->n_init];
        json_t *m;
        json_array_foreach(json_object_get(c->spec, "volumeMounts"), i, m)
        {
            const char *name = jsonx_str(m, "name", "");
            const char *mp = jsonx_str(m, "mountPath", "");
            if (!find_volume(p, name)) {
                if (asprintf(&msg,
                             "container \"%s\": volume mount \"%s\" names no volume of the pod",
                             c->name, name) < 0)
                    msg = NULL;
                return msg;
            }
            if (mp[0] != '/') {
                if (asprintf(&msg,
                             "container \"%s\": volume mount \"%s\": mountPath \"%s\" must be "
                             "an absolute path",
                             c->name, name, mp) < 0)
                    msg = NULL;
                return msg;
            }
            if (strstr(jsonx_str(m, "subPath", ""), "..")) {
                if (asprintf(&msg,
                             "container \"%s\": volume mount \"%s\": subPath must not "
                             "contain \"..\"",
                             c->name, name) < 0)
                    msg = NULL;
                return msg;
            }
        }
    }
    return NULL;
}

static void vol_dir(kl_pod_t *p, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/volumes/%s", p->dir, name);
}

static int write_file(const char *dir, const char *rel, const char *data, size_t len, int mode)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    /* keys may contain '/' through items[].path: create parents */
    for (char *s = path + strlen(dir) + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(path, 0755);
            *s = '/';
        }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return -1;
    ssize_t w = write(fd, data, len);
    close(fd);
    return w == (ssize_t)len ? 0 : -1;
}

static int project(kl_pod_t *p, json_t *v, const char *type, const char *dir, char **err)
{
    bool secret = strcmp(type, "secret") == 0;
    json_t *src = json_object_get(v, type);
    const char *oname = jsonx_str(src, secret ? "secretName" : "name", "");
    restype_t *rt = secret ? p->kl->secrets_rt : p->kl->cm_rt;
    char key[600];
    snprintf(key, sizeof key, "%s/%s", p->ns, oname);
    json_t *obj = rt ? store_coll_get(rt->coll, key) : NULL;
    if (!obj) {
        if (jsonx_bool(src, "optional")) return 0;
        if (asprintf(err, "MountVolume.SetUp failed for volume \"%s\" : %s \"%s\" not found",
                     jsonx_str(v, "name", ""), secret ? "secret" : "configmap", oname) < 0)
            *err = NULL;
        return -1;
    }
    int mode = (int)jsonx_int(src, "defaultMode", 0644);
    json_t *items = json_object_get(src, "items");
    for (int f = 0; f < 2; f++) {
        const char *field = f ? (secret ? "stringData" : "binaryData") : "data";
        bool b64 = (secret && f == 0) || (!secret && f == 1);
        const char *k;
        json_t *val;
        json_object_foreach(json_object_get(obj, field), k, val)
        {
            if (!json_is_string(val)) continue;
            const char *rel = k;
            int m = mode;
            if (json_array_size(items)) {
                rel = NULL;
                size_t i;
                json_t *it;
                json_array_foreach(items, i, it) if (strcmp(jsonx_str(it, "key", ""), k) == 0)
                {
                    rel = jsonx_str(it, "path", k);
                    m = (int)jsonx_int(it, "mode", mode);
                }
                if (!rel) continue;
            }
            if (strstr(rel, "..")) continue;
            size_t len;
            char *data = b64 ? envexpand_base64(json_string_value(val), &len)
                             : strdup(json_string_value(val));
            if (!b64) len = strlen(data);
            if (data && write_file(dir, rel, data, len, m) != 0) {
                if (asprintf(err, "volume \"%s\": writing %s: %s", jsonx_str(v, "name", ""), rel,
                             strerror(errno)) < 0)
                    *err = NULL;
                free(data);
                return -1;
            }
            free(data);
        }
    }
    return 0;
}

int volumes_prepare(kl_pod_t *p, char **err)
{
    *err = NULL;
    json_t *vols = jsonx_get(p->spec_obj, "spec.volumes");
    if (json_array_size(vols) == 0) return 0;
    char base[4400];
    snprintf(base, sizeof base, "%s/volumes", p->dir);
    mkdir(base, 0755);
    size_t i;
    json_t *v;
    json_array_foreach(vols, i, v)
    {
        const char *unknown;
        const char *type = volume_type(v, &unknown);
        char dir[4600];
        vol_dir(p, jsonx_str(v, "name", ""), dir, sizeof dir);
        if (strcmp(type, "hostPath") == 0) {
            const char *hp = jsonx_str(v, "hostPath.path", "");
            const char *ht = jsonx_str(v, "hostPath.type", "");
            struct stat st;
            bool exists = stat(hp, &st) == 0;
            if (strcmp(ht, "DirectoryOrCreate") == 0 && !exists) {
                char cmd[4200];
                snprintf(cmd, sizeof cmd, "%s", hp);
                for (char *s = cmd + 1; *s; s++)
                    if (*s == '/') {
                        *s = '\0';
                        mkdir(cmd, 0755);
                        *s = '/';
                    }
                mkdir(cmd, 0755);
            } else if (strcmp(ht, "FileOrCreate") == 0 && !exists) {
                int fd = open(hp, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd >= 0) close(fd);
            } else if (!exists || (strcmp(ht, "Directory") == 0 && !S_ISDIR(st.st_mode)) ||
                       (strcmp(ht, "File") == 0 && !S_ISREG(st.st_mode))) {
                if (*ht || !exists) {
                    if (asprintf(err,
                                 "MountVolume.SetUp failed for volume \"%s\" : hostPath type "
                                 "check failed: %s is not a %s",
                                 jsonx_str(v, "name", ""), hp, *ht ? ht : "path that exists") < 0)
                        *err = NULL;
                    return -1;
                }
            }
            continue;
        }
        if (mkdir(dir, strcmp(type, "emptyDir") == 0 ? 0777 : 0755) != 0 && errno != EEXIST) {
            if (asprintf(err, "volume \"%s\": creating %s: %s", jsonx_str(v, "name", ""), dir,
                         strerror(errno)) < 0)
                *err = NULL;
            return -1;
        }
        if (strcmp(type, "emptyDir") == 0) chmod(dir, 0777);
        if ((strcmp(type, "configMap") == 0 || strcmp(type, "secret") == 0) &&
            project(p, v, type, dir, err) != 0)
            return -1;
    }
    return 0;
}

json_t *volumes_mounts(kl_pod_t *p, kl_ctr_t *c, char **err)
{
    *err = NULL;
    json_t *out = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(c->spec, "volumeMounts"), i, m)
    {
        const char *name = jsonx_str(m, "name", "");
        json_t *v = find_volume(p, name);
        const char *unknown;
        const char *type = v ? volume_type(v, &unknown) : NULL;
        if (!type) {
            if (asprintf(err, "volume mount \"%s\" names no usable volume", name) < 0) *err = NULL;
            json_decref(out);
            return NULL;
        }
        char src[8192];
        if (strcmp(type, "hostPath") == 0)
            snprintf(src, sizeof src, "%s", jsonx_str(v, "hostPath.path", ""));
        else
            vol_dir(p, name, src, sizeof src);
        const char *sub = jsonx_str(m, "subPath", "");
        if (*sub) {
            size_t n = strlen(src);
            snprintf(src + n, sizeof src - n, "/%s", sub);
            struct stat st;
            if (stat(src, &st) != 0) mkdir(src, 0777);
        }
        bool ro = jsonx_bool(m, "readOnly") || strcmp(type, "configMap") == 0 ||
                  strcmp(type, "secret") == 0;
        json_array_append_new(out, json_pack("{s:s,s:s,s:b}", "src", src, "dst",
                                             jsonx_str(m, "mountPath", ""), "ro", ro));
    }
    return out;
}
