/* Minimal eventlistener in C: the floor of bench_test.go. It counts len in
 * bytes, which is right only for ASCII payloads (the benchmark's). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put(const char *s) {
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t w = write(1, s, n);
		if (w <= 0)
			exit(1);
		s += w;
		n -= (size_t)w;
	}
}

int main(void) {
	static char line[8192], payload[1 << 20];
	for (;;) {
		put("READY\n");
		if (!fgets(line, sizeof line, stdin))
			return 0;
		char *p = strstr(line, " len:");
		if (!p)
			return 1;
		long len = strtol(p + 5, NULL, 10);
		if (len < 0 || (size_t)len > sizeof payload)
			return 1;
		if (len > 0 && fread(payload, 1, (size_t)len, stdin) != (size_t)len)
			return 0;
		put("RESULT 2\nOK");
	}
}
