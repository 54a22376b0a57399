/* scratch.c: the large working buffers of a frame's reading, kept by the PsOcr for the next.
 *
 * A frame's reading takes and frees a few megabytes of buffers (the gray frame shrunk, its
 * integral and local means, the detector's activations). Freed, glibc gives most of them back
 * to the kernel (a freed mmap, or the heap's top trimmed), and the next frame takes each page
 * again with a page fault and a page of zeros: on a 960x540 frame about 1,700 of them. The
 * buffers given back here are kept instead (at most OCR__SCRATCH_KEEP of them, at most
 * OCR__SCRATCH_BYTES together) and taken again by the next that fits; those a frame did not
 * use are freed when the next begins, so what is kept is what one frame needs. A PsOcr is
 * used by one thread at a time, so no lock. Their contents are not cleared, as what
 * g_malloc() gives is not (OcrScratch.poison fills them with other bytes, for tests that no
 * read depends on them). */
#include <string.h>

#include "ocr-private.h"

/* In a sanitizer build, the part of a kept buffer past what was asked for, all of a buffer
 * given back, and each buffer's header are poisoned: an overrun, an underrun or a use after
 * ocr__scratch_give() is reported as it would be on a buffer of its own. */
#if defined(__SANITIZE_ADDRESS__)
#define SCRATCH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCRATCH_ASAN 1
#endif
#endif
#ifdef SCRATCH_ASAN
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#endif

/* Each buffer starts with its size; the caller's part is 32 bytes further, which keeps the
 * alignment g_malloc() gives. The header is poisoned too, so that a write before the caller's
 * part is reported as ASan's redzone would report it. */
#define HEADER 32

static size_t size_of(guint8 *p)
{
    size_t size;
    ASAN_UNPOISON_MEMORY_REGION(p, sizeof size);
    memcpy(&size, p, sizeof size);
    ASAN_POISON_MEMORY_REGION(p, HEADER);
    return size;
}

static void drop(guint8 *p, size_t size)
{
    ASAN_UNPOISON_MEMORY_REGION(p, HEADER + size);
    g_free(p);
}

/* Removes kept buffer @i from @s (the last takes its place). */
static void unkeep(OcrScratch *s, int i)
{
    s->bytes -= s->size[i];
    s->n--;
    s->buf[i] = s->buf[s->n];
    s->size[i] = s->size[s->n];
    s->frame_of[i] = s->frame_of[s->n];
}

static void *take(OcrScratch *s, size_t size)
{
    if (s) {
        int best = -1;
        for (int i = 0; i < s->n; i++)
            if (s->size[i] >= size && (best < 0 || s->size[i] < s->size[best]))
                best = i;
        if (best >= 0) {
            guint8 *p = s->buf[best];
            ASAN_UNPOISON_MEMORY_REGION(p + HEADER, size);
            unkeep(s, best);
            return p + HEADER;
        }
    }
    guint8 *p = g_malloc(size + HEADER);
    memcpy(p, &size, sizeof size);
    ASAN_POISON_MEMORY_REGION(p, HEADER);
    return p + HEADER;
}

void *ocr__scratch_take(OcrScratch *s, size_t size)
{
    guint8 *p = take(s, size);
    if (s && s->poison) { /* bytes that vary, so that no offset cancels out */
        guint32 x = 0x2545f491u;
        for (size_t i = 0; i < size; i++) {
            x = x * 1664525u + 1013904223u;
            p[i] = (guint8)(x >> 24);
        }
    }
    return p;
}

void ocr__scratch_give(OcrScratch *s, void *buf)
{
    if (!buf)
        return;
    guint8 *p = (guint8 *)buf - HEADER;
    size_t size = size_of(p);
    if (!s || size > OCR__SCRATCH_BYTES) {
        drop(p, size);
        return;
    }
    /* Full: the smallest kept buffers make room (the large ones cost the most faults). */
    while (s->n == OCR__SCRATCH_KEEP || s->bytes + size > OCR__SCRATCH_BYTES) {
        int small = 0;
        for (int i = 1; i < s->n; i++)
            if (s->size[i] < s->size[small])
                small = i;
        if (s->size[small] > size) {
            drop(p, size);
            return;
        }
        drop(s->buf[small], s->size[small]);
        unkeep(s, small);
    }
    ASAN_POISON_MEMORY_REGION(buf, size);
    s->buf[s->n] = p;
    s->size[s->n] = size;
    s->frame_of[s->n] = s->frame;
    s->bytes += size;
    s->n++;
}

void ocr__scratch_next_frame(OcrScratch *s)
{
    if (!s)
        return;
    /* Frames of one camera take the same buffers again; a frame of another size leaves the
     * last one's behind, and they go here rather than stay to the bound. */
    for (int i = s->n - 1; i >= 0; i--)
        if (s->frame_of[i] != s->frame) {
            drop(s->buf[i], s->size[i]);
            unkeep(s, i);
        }
    s->frame++;
}

void ocr__scratch_clear(OcrScratch *s)
{
    for (int i = 0; i < s->n; i++)
        drop(s->buf[i], s->size[i]);
    s->n = 0;
    s->bytes = 0;
}
