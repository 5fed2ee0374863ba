/*
 * address.c — socket addresses from the text the control plane gives:
 * the address DNS is served on, and the upstreams'.
 */
#include "forward.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

int dp_parse_address(const char *address, uint16_t port, struct sockaddr_storage *ss,
                     socklen_t *len) {
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        *len = sizeof(*v4);
        return 0;
    }
    if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        *len = sizeof(*v6);
        return 0;
    }
    return -1;
}
