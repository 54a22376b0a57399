/* pipeline.h: the frame pipeline's shared state and stages, inside ocr/ only.
 *
 * A frame goes through these stages, one file each:
 *   binarize.c    the gray frame halved when wide, local and strip means, five thresholding
 *                 passes in both polarities; each pass runs the stages below (ocr__read_gray)
 *   components.c  connected components of character size, cut when wide or stacked, box frames
 *                 dropped
 *   grid.c        the uniform grid for neighbour searches, the class cache of one frame, the
 *                 network on one box
 *   link.c        mutual nearest neighbours linked into lines and columns, chains along links
 *   candidates.c  windows of 11 (one line, one column, two rows), the W join, the size/type,
 *                 the best read of each place
 *   rescue.c      broken lines mended at the places their pitch says a character is missing
 *   det.c         the learned text-region detector: a heat map of code characters
 *   detect.c      the regions of that map, each cut out, scaled and read by the stages above;
 *                 its lines, read whole by the line reader when nothing else gave a code,
 *                 and again with its wide network when that gave none either
 *   linecrop.c    the strip of a line the line reader reads (shared with the generator)
 *   ctc.c         the line reader: convolutional networks read out with CTC (best path)
 *   conv.c        the convolution det.c and ctc.c share, in AVX2 code where the processor
 *                 has it and in SSE2 code (the same floats); whether this read may use AVX2
 *   photo.c       encoded images decoded as gray (Leptonica, libheif), turned as their EXIF
 *                 orientation or HEIF boxes say, large photos at a reduced size
 *   ocr.c         the public API: options, frames of every pixel format, files, memory
 */
#pragma once

#include "ocr-private.h"

#define OCR__MAX_SIDE 8192
#define OCR__MAX_COMPONENTS 20000
#define OCR__MAX_CANDIDATES 4000
#define OCR__MAX_CHAIN 64

/* Where the lines of characters the components make are being kept from (PsOcr). */
typedef enum {
    OCR__CHAINS_NONE,
    OCR__CHAINS_OF_FRAME,  /* the whole frame */
    OCR__CHAINS_OF_REGION, /* a detector's region */
} OcrChainSource;

/* A line of characters the components made (ocr__find_codes()): frame pixels. */
typedef struct {
    OcrLine l;
    int len;
    int box[OCR__MAX_CHAIN][4]; /* each component's x, y, w, h */
    gboolean bright;
    gboolean of_region; /* made in a detector's region (else in the whole frame) */
} OcrChainLine;

#define OCR__MAX_WEAKS 4

/* Where a weak code was read, for the line reader to read it again (frame pixels). */
typedef struct {
    gboolean two_rows; /* an owner row over a serial row: the lines through their characters */
    OcrLine rows[2];
    gboolean in_column; /* down a column: its 11 characters' boxes (x0, y0, x1, y1) */
    double column[OCR_CODE_LEN][4];
} OcrWeakPlace;

struct _PsOcr {
    OcrOptions opts;
    /* The large working buffers of the last frame, for the next (scratch.c; ocr__scratch_of()). */
    OcrScratch scratch;
    /* While the whole frame or a detector's region is read (keep_weaks; a region's pixels
     * at weak_x0 + x / weak_scale of the frame's), the OCR__MAX_WEAKS surest codes under
     * opts.min_confidence, one per code, surest first, in frame pixels. */
    gboolean keep_weaks;
    double weak_x0, weak_y0, weak_scale;
    int n_weaks;
    OcrRead weaks[OCR__MAX_WEAKS];
    /* Where each of weaks[] was read (weak_places[i] for weaks[i], moved with it). */
    OcrWeakPlace weak_places[OCR__MAX_WEAKS];
    /* While a code of two rows is added (read_two_rows()): its rows; while a code of a column
     * is added: its characters' boxes; in the pixels of the image read (the frame, or a
     * detector's region: scaled as the weak codes' boxes). */
    const OcrLine *adding_rows;
    const double (*adding_column)[4];
    /* While the whole frame is read (keep_chain_lines OCR__CHAINS_OF_FRAME, ocr__read_frame())
     * and, with opts.region_chains, the detector's regions (OCR__CHAINS_OF_REGION,
     * read_region()): the longest lines of characters their components made, in frame
     * pixels. */
    OcrChainSource keep_chain_lines;
    int n_chain_lines;
    OcrChainLine chain_lines[OCR__MAX_LINES];
    /* The network the line reader reads with (ocr__read_frame()). */
    OcrCtcNet ctc_net;
};

typedef struct {
    int x, y, w, h; /* detection scale */
    int area;
    gboolean bright;
    int right, left, down, up; /* neighbour links, -1 none */
    int classified;            /* 0 not yet, 1 done */
    float prob[OCR__N_OUT];
    int inner_classified;      /* the same for the inside of a box (a boxed check digit) */
    float inner_prob[OCR__N_OUT];
    gboolean rescued;          /* in a line rescue_lines() has already mended */
} Comp;

/* A uniform grid over the detection image: each cell lists the components whose box touches
 * it, so neighbour searches look at a few cells instead of every component. */
typedef struct {
    int cell, nx, ny;
    GArray **cells;  /* int indices, nx * ny, NULL when empty */
    guint *mark;     /* per component: the query that last listed it */
    guint n_mark, stamp;
} Grid;

/* Characters already classified in this frame (by an earlier contrast pass): the same box in
 * the same polarity gives the same crop, so its probabilities are reused. */
typedef struct {
    GHashTable *index; /* packed box key -> 1 + row in probs */
    GArray *probs;     /* float[OCR__N_OUT] rows */
} ClassCache;

typedef struct {
    const guint8 *gray; /* full resolution */
    int width, height;
    int scale; /* detection pixels -> frame pixels */
    GArray *comps; /* Comp */
    ClassCache *cache;
    Grid grid;
    /* The pass of dark surroundings (binarize.c): its codes must have every character clear
     * of junk (read_sequence()). */
    gboolean dark;
} Frame;

/* grid.c */
void ocr__grid_init(Grid *g, int w, int h, int cell);
void ocr__grid_clear(Grid *g);
void ocr__grid_add(Grid *g, int idx, int x, int y, int w, int h);
/* The components whose box may touch [x0, x1) x [y0, y1), each once, in ascending order (the
 * order of a scan over all of them, so ties are broken the same way). */
void ocr__grid_query(Grid *g, double x0, double y0, double x1, double y1, GArray *out);
ClassCache *ocr__class_cache_new(void);
void ocr__class_cache_free(ClassCache *c);
/* The network's probabilities for the crop of box (@x, @y, @w, @h) in frame pixels. */
void ocr__classify_box(Frame *f, int x, int y, int w, int h, gboolean bright, float *prob);

/* components.c */
/* Connected components of @mask (w x h, 1 = set) into @out; 8-connectivity. With @split (the
 * frame, for the network), components as wide as two or more characters are cut. Its working
 * buffers come from @scratch (may be NULL). */
void ocr__components(const guint8 *mask, int w, int h, gboolean bright, int min_h, int max_h,
                     Frame *split, OcrScratch *scratch, GArray *out);
/* In a column of characters (corner posts), two characters painted close together are one
 * component about twice as tall as the ones above or below it: cut it in two where the rows
 * hold the least ink. */
void ocr__split_stacked(GArray *comps, const guint8 *bright, const guint8 *dark, int w, int h,
                        int min_h);
/* Box frames (the check digit's box) contain another component: they are not characters. */
void ocr__drop_frames(GArray *comps, int w, int h);
/* The most probable class of @prob (OCR__N_OUT outputs). */
int ocr__argmax_of(const float *prob);

/* link.c */
gboolean ocr__similar_height(const Comp *a, const Comp *b);
/* Links each component to its best right and lower neighbour, kept only when mutual. */
void ocr__link_neighbours(Frame *f, gboolean vertical);
/* Collects a chain starting at @start following right (or down) links into @chain. */
int ocr__chain_of(Comp *c, int start, gboolean down, int *chain, int max);

/* candidates.c */
void ocr__classify(Frame *f, Comp *c);
/* join_pair_as_w() along every line of 4 or more. */
void ocr__join_halves_of_w(Frame *f, gboolean wide_pieces);
void ocr__find_codes(PsOcr *ocr, Frame *f, OcrReads *out);
/* Adds @r to @out unless it is under the minimum confidence (then, while ocr->keep_weaks, it
 * goes to ocr__keep_weak()); of two reads of the same code or of the same place the more
 * confident is kept; when @out is full, the weakest goes. */
void ocr__add_read(PsOcr *ocr, OcrReads *out, const OcrRead *r);
/* Keeps @r (its box mapped to frame pixels by ocr->weak_x0, weak_y0 and weak_scale) among
 * ocr->weaks when it is one of the OCR__MAX_WEAKS surest codes (one read per code). */
void ocr__keep_weak(PsOcr *ocr, const OcrRead *r);
/* The share of the smaller of boxes @a and @b (x, y, w, h) that the other covers (0: apart). */
double ocr__box_overlap(const int a[4], const int b[4]);

/* rescue.c */
/* Mends the chains that look like part of a code but gave no read (see rescue.c), linking the
 * characters found into them. Returns whether any chain changed (ocr__find_codes() must look
 * again). */
gboolean ocr__rescue_lines(PsOcr *ocr, Frame *f, const OcrReads *out);

/* The working buffers @ocr keeps for the next frame, or NULL when OcrOptions.keep_buffers is
 * off (ocr__scratch_take() and ocr__scratch_give() then allocate and free). */
static inline OcrScratch *ocr__scratch_of(PsOcr *ocr)
{
    return ocr->opts.keep_buffers ? &ocr->scratch : NULL;
}

/* binarize.c */
/* Reads codes in a gray frame (the thresholding reader on the whole frame). */
void ocr__read_gray(PsOcr *ocr, const guint8 *gray, int width, int height, OcrReads *out);

/* detect.c */
/* Reads codes in a gray frame as OcrOptions.detector says: the thresholding reader on the whole
 * frame, and when it found no code, on the regions the learned detector proposes (union); or
 * on those regions only. */
void ocr__read_frame(PsOcr *ocr, const guint8 *gray, int width, int height, OcrReads *out);

/* photo.c */
struct Pix;
/* The image in the file at @path, or the @size bytes at @data, decoded as 8-bit gray and turned
 * as it says it is seen (a JPEG's EXIF orientation, a HEIF image's irot and imir boxes); a JPEG
 * or HEIF photo over OCR_MAX_PIXELS, or with a side over OCR__MAX_SIDE, at 1/ *@factor of its
 * width and height (2, 4 or 8; else 1).
 * NULL with @error naming the file (or "image in memory") when it is over the size limits
 * (checked from its header before decoding) or cannot be decoded. */
struct Pix *ocr__decode_file(const char *path, int *factor, GError **error);
struct Pix *ocr__decode_memory(const guint8 *data, gsize size, int *factor, GError **error);

/* heif.c */
/* Whether every picture the HEIF file @data (@len bytes) codes fits in its primary image of
 * @iw x @ih (its ispe: before turning), rounded up to HEVC's largest coding block (64), or
 * either way round: the HEVC sequence parameter sets of its hvcC boxes and hvc1 items' data,
 * the AV1 sequence headers of its av1C boxes and av01 items' data; that no image codes more
 * than one picture; and for a grid, its output within @iw x @ih and its tiles no more than it
 * needs. The primary image must be an HEVC or AV1 picture that says its size, or a grid of
 * them. When not, FALSE with @error saying what, naming @name. */
gboolean ocr__heif_fits(const guint8 *data, gsize len, int iw, int ih, const char *name,
                        GError **error);
