/* Load client for bench/modbus/run.sh: CONNECTIONS threads, each with its own libmodbus TCP connection,
 * read 10 holding registers (FC 3) in a closed loop for SECONDS and count the answers.
 * Usage: libmodbus-load PORT UNIT CONNECTIONS SECONDS   -> prints requests/s, errors */
#include <errno.h>
#include <modbus.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int port, unit, seconds;

struct result { long ok; long errors; };

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *worker(void *arg) {
    struct result *result = arg;
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", port);
    if (ctx == NULL || modbus_connect(ctx) == -1) {
        fprintf(stderr, "libmodbus-load: connect to %d: %s\n", port, modbus_strerror(errno));
        result->errors = -1;
        return NULL;
    }
    modbus_set_slave(ctx, unit);
    uint16_t registers[10];
    double end = now() + seconds;
    while (now() < end) {
        for (int i = 0; i < 64; i++) {
            if (modbus_read_registers(ctx, 0, 10, registers) == 10) result->ok++;
            else result->errors++;
        }
    }
    modbus_close(ctx);
    modbus_free(ctx);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: libmodbus-load PORT UNIT CONNECTIONS SECONDS\n");
        return 2;
    }
    port = atoi(argv[1]);
    unit = atoi(argv[2]);
    int connections = atoi(argv[3]);
    seconds = atoi(argv[4]);
    pthread_t threads[256];
    struct result results[256] = {0};
    if (connections < 1 || connections > 256) return 2;
    double start = now();
    for (int i = 0; i < connections; i++) pthread_create(&threads[i], NULL, worker, &results[i]);
    long ok = 0, errors = 0;
    for (int i = 0; i < connections; i++) {
        pthread_join(threads[i], NULL);
        ok += results[i].ok;
        errors += results[i].errors;
    }
    double elapsed = now() - start;
    printf("%.0f %ld\n", ok / elapsed, errors);
    return errors == 0 ? 0 : 1;
}
