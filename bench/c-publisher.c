/* Minimal libmosquitto MQTT 5 publisher for bench/mqtt-bench.sh (mosquitto_pub is far too slow).
 *
 *   c-publisher <host> <port> <topic> <qos> <count> <payload-bytes>
 *
 * Publishes <count> messages as fast as libmosquitto queues them (payload starts with the sequence
 * number), waits for every PUBACK at QoS 1, and prints "msgs/s <rate>". */
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile long acknowledged;
static volatile int connected;

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props) {
	(void)mosq; (void)obj; (void)flags; (void)props;
	if (rc != 0) {
		fprintf(stderr, "connect refused: %s\n", mosquitto_reason_string(rc));
		exit(1);
	}
	connected = 1;
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid, int reason, const mosquitto_property *props) {
	(void)mosq; (void)obj; (void)mid; (void)reason; (void)props;
	__atomic_add_fetch(&acknowledged, 1, __ATOMIC_SEQ_CST);
}

int main(int argc, char **argv) {
	if (argc != 7) {
		fprintf(stderr, "usage: %s <host> <port> <topic> <qos> <count> <payload-bytes>\n", argv[0]);
		return 2;
	}
	int qos = atoi(argv[4]);
	long count = atol(argv[5]);
	int size = atoi(argv[6]);
	char *payload = calloc(1, (size_t)size + 32);
	mosquitto_lib_init();
	struct mosquitto *mosq = mosquitto_new(NULL, true, NULL);
	mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_connect_v5_callback_set(mosq, on_connect);
	mosquitto_publish_v5_callback_set(mosq, on_publish);
	int rc = mosquitto_connect_bind_v5(mosq, argv[1], atoi(argv[2]), 60, NULL, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "connect: %s\n", mosquitto_strerror(rc));
		return 1;
	}
	mosquitto_loop_start(mosq);
	while (!connected) usleep(1000);
	struct timespec start, end;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (long i = 0; i < count; i++) {
		memset(payload, 'x', (size_t)size);
		int n = snprintf(payload, (size_t)size + 32, "%ld", i);
		if (n < size) payload[n] = ' ';
		while ((rc = mosquitto_publish_v5(mosq, NULL, argv[3], size > n ? size : n, payload, qos, false, NULL)) == MOSQ_ERR_NOMEM) usleep(100);
		if (rc != MOSQ_ERR_SUCCESS) {
			fprintf(stderr, "publish: %s\n", mosquitto_strerror(rc));
			return 1;
		}
		/* Keep the queue in libmosquitto bounded. */
		while (i - acknowledged > 5000) usleep(50);
	}
	while (acknowledged < count) usleep(200);
	clock_gettime(CLOCK_MONOTONIC, &end);
	double elapsed = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
	printf("msgs/s %.0f (%ld messages in %.3f s)\n", (double)count / elapsed, count, elapsed);
	mosquitto_disconnect(mosq);
	mosquitto_loop_stop(mosq, false);
	mosquitto_destroy(mosq);
	mosquitto_lib_cleanup();
	free(payload);
	return 0;
}
