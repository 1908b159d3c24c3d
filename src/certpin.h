/*
 * certpin.h - the "sha256//BASE64" public-key pin of a certificate, as
 * libcurl's CURLOPT_PINNEDPUBLICKEY expects it: SHA-256 over the DER
 * SubjectPublicKeyInfo, base64-encoded. popfetch --server-info prints it
 * so users can pin a server without openssl at hand.
 */
#ifndef POPFETCH_CERTPIN_H
#define POPFETCH_CERTPIN_H

#include <stddef.h>
#include <stdint.h>

/* SHA-256 of len bytes. */
void certpin_sha256(const void *data, size_t len, uint8_t out[32]);

/* Base64 (with padding) of len bytes into out (NUL-terminated). Returns
 * the length written, or 0 when outlen is too small. */
size_t certpin_base64(const uint8_t *in, size_t len, char *out, size_t outlen);

/*
 * From a PEM certificate (the first "-----BEGIN CERTIFICATE-----" block
 * in pem), write "sha256//..." into out. Returns 0, or -1 when the text
 * is not a certificate this parser understands.
 */
int certpin_from_pem(const char *pem, char *out, size_t outlen);

#endif
