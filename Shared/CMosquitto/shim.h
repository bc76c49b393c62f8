#ifndef SHOPFLOOR_CMOSQUITTO_SHIM_H
#define SHOPFLOOR_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#include <mqtt_protocol.h>
#endif
