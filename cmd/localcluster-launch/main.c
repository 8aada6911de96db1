/* localcluster-launch: the kubelet's container launcher as a small binary (libc and jansson
 * only), exec'd once per container: the same code as `localcluster --internal-launch`, minus
 * loading and relocating the API server's libraries (OpenSSL) on every container start. The
 * kubelet uses it when it sits next to localcluster, else its own hidden mode. */
#include <stdio.h>
#include <string.h>

#include "kubelet/launcher.h"

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], LAUNCHER_ARG) != 0) {
        fprintf(stderr, "localcluster-launch is started by localcluster's kubelet, not by hand\n");
        return 2;
    }
    launcher_main(argc, argv);
}
