/* Minimal libmosquitto MQTT 5 subscriber: the C baseline for bench/mqtt-bench.sh.
 *
 *   c-subscriber <host> <port> <topic> <qos> <count> <client-id> prime|run
 *
 * prime: connect with a persistent session (clean start off, session expiry 3600 s), subscribe, exit, so
 *        the broker queues what is published meanwhile.
 * run:   resume that session and count <count> messages; prints "msgs/s <rate>" measured from the first
 *        to the last message. Uses the same receive maximum (1000) as the Swift client in the benchmark. */
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long target, received;
static int qos, prime;
static const char *topic;
static struct timespec first, last;

static double seconds(struct timespec a, struct timespec b) {
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props) {
	(void)obj; (void)props;
	if (rc != 0) {
		fprintf(stderr, "connect refused: %s\n", mosquitto_reason_string(rc));
		exit(1);
	}
	if (prime) {
		mosquitto_subscribe_v5(mosq, NULL, topic, qos, 0, NULL);
	} else if (!(flags & 1)) {
		fprintf(stderr, "session was not resumed; run prime first\n");
		exit(1);
	}
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int count, const int *granted,
                         const mosquitto_property *props) {
	(void)obj; (void)mid; (void)count; (void)granted; (void)props;
	if (prime) mosquitto_disconnect(mosq);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
                       const mosquitto_property *props) {
	(void)obj; (void)msg; (void)props;
	if (received == 0) clock_gettime(CLOCK_MONOTONIC, &first);
	if (++received == target) {
		clock_gettime(CLOCK_MONOTONIC, &last);
		mosquitto_disconnect(mosq);
	}
}

int main(int argc, char **argv) {
	if (argc != 8) {
		fprintf(stderr, "usage: %s <host> <port> <topic> <qos> <count> <client-id> prime|run\n", argv[0]);
		return 2;
	}
	topic = argv[3];
	qos = atoi(argv[4]);
	target = atol(argv[5]);
	prime = strcmp(argv[7], "prime") == 0;
	mosquitto_lib_init();
	struct mosquitto *mosq = mosquitto_new(argv[6], false, NULL);
	if (!mosq) return 1;
	mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_int_option(mosq, MOSQ_OPT_RECEIVE_MAXIMUM, 1000);
	mosquitto_connect_v5_callback_set(mosq, on_connect);
	mosquitto_subscribe_v5_callback_set(mosq, on_subscribe);
	mosquitto_message_v5_callback_set(mosq, on_message);
	mosquitto_property *props = NULL;
	mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL, 3600);
	int rc = mosquitto_connect_bind_v5(mosq, argv[1], atoi(argv[2]), 60, NULL, props);
	mosquitto_property_free_all(&props);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "connect: %s\n", mosquitto_strerror(rc));
		return 1;
	}
	mosquitto_loop_forever(mosq, -1, 1);
	if (!prime) {
		double elapsed = seconds(first, last);
		printf("msgs/s %.0f (%ld messages in %.3f s)\n", elapsed > 0 ? (double)received / elapsed : 0.0, received, elapsed);
	}
	mosquitto_destroy(mosq);
	mosquitto_lib_cleanup();
	return received == target || prime ? 0 : 1;
}
