/*
 * certpin.c - SHA-256 (FIPS 180-4), base64, and just enough DER to find a
 * certificate's SubjectPublicKeyInfo. Small on purpose: popfetch links
 * only libc, libcurl and libyaml.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "certpin.h"
#include "util.h"

/* ---- SHA-256 ------------------------------------------------------------- */

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void
sha256_block(uint32_t h[8], const uint8_t *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^
		    (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^
		    (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0]; b = h[1]; c = h[2]; d = h[3];
	e = h[4]; f = h[5]; g = h[6]; hh = h[7];
	for (i = 0; i < 64; i++) {
		t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) +
		    ((e & f) ^ (~e & g)) + K[i] + w[i];
		t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) +
		    ((a & b) ^ (a & c) ^ (b & c));
		hh = g; g = f; f = e; e = d + t1;
		d = c; c = b; b = a; a = t1 + t2;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d;
	h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

void
certpin_sha256(const void *data, size_t len, uint8_t out[32])
{
	uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	const uint8_t *p = data;
	uint8_t tail[128];
	size_t n = len, rest;
	uint64_t bits = (uint64_t)len * 8;

	for (; n >= 64; n -= 64, p += 64)
		sha256_block(h, p);
	/* Padding: 0x80, zeros, the 64-bit length; one or two blocks. */
	memset(tail, 0, sizeof(tail));
	memcpy(tail, p, n);
	tail[n] = 0x80;
	rest = n < 56 ? 64 : 128;
	for (int i = 0; i < 8; i++)
		tail[rest - 1 - i] = (uint8_t)(bits >> (8 * i));
	sha256_block(h, tail);
	if (rest == 128)
		sha256_block(h, tail + 64);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(h[i] >> 8);
		out[4 * i + 3] = (uint8_t)h[i];
	}
}

/* ---- base64 -------------------------------------------------------------- */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
certpin_base64(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	size_t need = (len + 2) / 3 * 4, o = 0;

	if (outlen < need + 1)
		return 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < len ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

/* Decode base64, skipping whitespace; stops at '=' or the end. */
static size_t
base64_decode(const char *in, size_t len, uint8_t *out)
{
	uint32_t v = 0;
	size_t o = 0;
	int nbits = 0;

	for (size_t i = 0; i < len; i++) {
		const char *q;
		if (in[i] == '=')
			break;
		if (in[i] == '\0' || (q = strchr(b64, in[i])) == NULL)
			continue;
		v = v << 6 | (uint32_t)(q - b64);
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			out[o++] = (uint8_t)(v >> nbits);
		}
	}
	return o;
}

/* ---- DER ----------------------------------------------------------------- */

/* Read one TLV header at p (within end): sets *tag, *hdr (header length)
 * and *len (content length). -1 on anything malformed. */
static int
der_header(const uint8_t *p, const uint8_t *end, int *tag, size_t *hdr,
    size_t *len)
{
	size_t n, l = 0;

	if (end - p < 2)
		return -1;
	*tag = p[0];
	if ((p[1] & 0x80) == 0) {
		*hdr = 2;
		*len = p[1];
	} else {
		n = p[1] & 0x7f;
		if (n == 0 || n > 4 || (size_t)(end - p) < 2 + n)
			return -1;
		for (size_t i = 0; i < n; i++)
			l = l << 8 | p[2 + i];
		*hdr = 2 + n;
		*len = l;
	}
	if ((size_t)(end - p) < *hdr + *len)
		return -1;
	return 0;
}

/*
 * Certificate ::= SEQUENCE { tbsCertificate, ... }
 * TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serial, signature,
 *     issuer, validity, subject, subjectPublicKeyInfo, ... }
 * The SPKI is the seventh element, or the sixth without a version.
 */
static int
der_find_spki(const uint8_t *der, size_t n, const uint8_t **spki,
    size_t *spki_len)
{
	const uint8_t *p = der, *end = der + n;
	size_t hdr, len;
	int tag, index = 0;

	if (der_header(p, end, &tag, &hdr, &len) != 0 || tag != 0x30)
		return -1;
	p += hdr;   /* into Certificate */
	if (der_header(p, end, &tag, &hdr, &len) != 0 || tag != 0x30)
		return -1;
	end = p + hdr + len;
	p += hdr;   /* into TBSCertificate */
	while (p < end) {
		if (der_header(p, end, &tag, &hdr, &len) != 0)
			return -1;
		if (index == 0 && tag != 0xa0)
			index = 1;   /* no explicit version */
		if (index == 6) {
			if (tag != 0x30)
				return -1;
			*spki = p;
			*spki_len = hdr + len;
			return 0;
		}
		p += hdr + len;
		index++;
	}
	return -1;
}

int
certpin_from_pem(const char *pem, char *out, size_t outlen)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	const char *b = strstr(pem, begin), *e;
	const uint8_t *spki;
	size_t n, spki_len;
	uint8_t *der, hash[32];
	int rc = -1;

	if (b == NULL)
		return -1;
	b += sizeof(begin) - 1;
	e = strstr(b, "-----END CERTIFICATE-----");
	if (e == NULL)
		return -1;
	der = xmalloc((size_t)(e - b));
	n = base64_decode(b, (size_t)(e - b), der);
	if (der_find_spki(der, n, &spki, &spki_len) == 0 && outlen > 8) {
		certpin_sha256(spki, spki_len, hash);
		memcpy(out, "sha256//", 8);
		if (certpin_base64(hash, sizeof(hash), out + 8, outlen - 8) > 0)
			rc = 0;
	}
	free(der);
	return rc;
}
