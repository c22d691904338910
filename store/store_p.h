/* store_p.h — private to store/: record codec. */
#ifndef PS_STORE_P_H
#define PS_STORE_P_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "util.h"

/*
 * Record encoding: one format byte (REC_FORMAT), then fields as protobuf-style
 * (field << 3 | wiretype) tags: wiretype 0 = varint (signed values zigzag), 2 = length +
 * bytes. Decoders skip fields they do not know, so older binaries read newer records; a
 * format byte above REC_FORMAT is refused.
 */
#define REC_FORMAT	1

void	codec_account_encode(const struct account *a, struct buf *out);
int	codec_account_decode(const void *data, size_t n, struct account *a);	/* 0 / -1 */
void	codec_person_encode(const struct person *p, struct buf *out);
int	codec_person_decode(const void *data, size_t n, struct person *p);
void	codec_prompt_encode(const struct prompt *p, struct buf *out);
int	codec_prompt_decode(const void *data, size_t n, struct prompt *p);
void	codec_history_encode(int64_t ts, const char *kind, const char *text, struct buf *out);
int	codec_history_decode(const void *data, size_t n, int64_t *ts, char **kind, char **text);

#endif
