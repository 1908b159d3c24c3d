/*
 * unit_certpin.c - SHA-256 against the FIPS 180-4 example vectors (one
 * block, the two-block padding edge, a million bytes), base64, and the
 * sha256// pin of two certificates whose pins openssl computed.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certpin.h"
#include "unit.h"

static void
hex(const uint8_t *h, char *out)
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

static void
check_sha(const char *in, size_t len, const char *want)
{
	uint8_t h[32];
	char got[65];

	certpin_sha256(in, len, h);
	hex(h, got);
	CHECK_STR(got, want);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	buf = calloc(1, 65536);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	/* Trim a trailing newline (the .pin files end with one). */
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}

static void
check_pin(const char *dir, const char *name)
{
	char path[1024], got[128];
	char *pem, *pin;

	snprintf(path, sizeof(path), "%s/tests/data/certpin/%s.pem", dir, name);
	pem = slurp(path);
	snprintf(path, sizeof(path), "%s/tests/data/certpin/%s.pin", dir, name);
	pin = slurp(path);
	CHECK(pem != NULL && pin != NULL);
	if (pem != NULL && pin != NULL) {
		CHECK(certpin_from_pem(pem, got, sizeof(got)) == 0);
		CHECK_STR(got, pin);
		/* Too small an output buffer is refused, not overrun. */
		CHECK(certpin_from_pem(pem, got, 20) != 0);
	}
	free(pem);
	free(pin);
}

int
main(void)
{
	const char *top = getenv("TOP_SRCDIR");
	char *million = malloc(1000000);
	char b[16];

	check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(million, 'a', 1000000);
	check_sha(million, 1000000,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(million);

	CHECK(certpin_base64((const uint8_t *)"ab", 2, b, sizeof(b)) == 4);
	CHECK_STR(b, "YWI=");
	CHECK(certpin_base64((const uint8_t *)"abcd", 4, b, sizeof(b)) == 8);
	CHECK_STR(b, "YWJjZA==");
	CHECK(certpin_base64((const uint8_t *)"abcd", 4, b, 8) == 0);

	CHECK(certpin_from_pem("no certificate here", b, sizeof(b)) != 0);
	check_pin(top ? top : ".", "ec");
	check_pin(top ? top : ".", "rsa");
	return unit_done("unit_certpin");
}
