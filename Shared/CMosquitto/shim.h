#ifndef SHOPFLOOR_CMOSQUITTO_SHIM_H
#define SHOPFLOOR_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <sys/ioctl.h>
#include <sys/select.h>

/// Whether the client's socket has unread bytes now, or gets some within `microseconds`. The MQTT client
/// asks this before waking a consumer for a small batch, so a burst becomes one wake-up instead of one per
/// message. (ioctl is variadic, which Swift cannot call.)
static inline int shopfloor_mosquitto_readable_within(struct mosquitto *mosq, long microseconds) {
    int socket = mosquitto_socket(mosq);
    int pending = 0;
    if (socket < 0 || socket >= FD_SETSIZE) return 0;
    if (ioctl(socket, FIONREAD, &pending) == 0 && pending > 0) return 1;
    if (microseconds <= 0) return 0;
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(socket, &readable);
    struct timeval timeout = { .tv_sec = 0, .tv_usec = microseconds };
    return select(socket + 1, &readable, NULL, NULL, &timeout) > 0;
}
#endif
