// SHA-256 (FIPS 180-4) for PlanLedger's leaf and Merkle hashes.
// A portable implementation, and the x86 SHA extensions (SHA-NI) when the CPU has them, chosen once at run time.
#ifndef CSHA256_H
#define CSHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t state[8];
    uint64_t length;      // bytes hashed so far
    uint8_t buffer[64];
    size_t buffered;
} pl_sha256_ctx;

void pl_sha256_init(pl_sha256_ctx *ctx);
void pl_sha256_update(pl_sha256_ctx *ctx, const void *data, size_t count);
void pl_sha256_final(pl_sha256_ctx *ctx, uint8_t digest[32]);

/// One-shot digest of `count` bytes.
void pl_sha256(const void *data, size_t count, uint8_t digest[32]);

/// 1 when this CPU has SHA-NI and it is in use.
int pl_sha256_accelerated(void);

/// Turns the SHA-NI path off (0) or back on (1) where available; for tests that compare both paths.
void pl_sha256_set_accelerated(int enabled);

#endif
