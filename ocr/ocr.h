/* ocr.h: container-number OCR on camera frames, code assembly and multi-frame fusion.
 *
 * Pipeline (ocr.c): local-contrast binarization of the frame in both polarities at three
 * contrast thresholds, connected components sized like painted characters, grouping into
 * horizontal lines, multi-line blocks and vertical columns, a small CNN that gives every
 * character a probability over 0-9/A-Z, and code assembly that picks the most probable code
 * passing the ISO 6346 check digit.
 *
 * Threads: a PsOcr is not shared: create one per thread (they are cheap; the model weights are
 * static data). The assembly functions and Iso6346 helpers are pure and thread-safe. An
 * OcrFusion is used by one thread at a time.
 */
#pragma once

#include <glib.h>

#include "iso6346.h"

G_BEGIN_DECLS

#define OCR_ERROR (ocr_error_quark())
GQuark ocr_error_quark(void);

typedef enum {
    OCR_ERROR_INVALID, /* bad argument: size, stride, format */
    OCR_ERROR_IMAGE,   /* image file could not be read or decoded */
} OcrErrorCode;

/* The recognizer's alphabet: index 0..9 are '0'..'9', 10..35 are 'A'..'Z'. */
#define OCR_N_CLASSES 36
#define OCR_CODE_LEN 11
#define OCR_MAX_READS 8

int ocr_class_index(char c); /* -1 when @c is not 0-9/A-Z */
char ocr_class_char(int index);

typedef enum {
    OCR_PIXEL_GRAY8, /* 1 byte per pixel */
    OCR_PIXEL_RGB,   /* 3 bytes: R, G, B */
    OCR_PIXEL_BGRX,  /* 4 bytes: B, G, R, x (GStreamer BGRx, BGRA) */
    OCR_PIXEL_RGBX,  /* 4 bytes: R, G, B, x (GStreamer RGBx, RGBA) */
} OcrPixelFormat;

/* Where the thresholding reader looks (OcrOptions.detector). */
typedef enum {
    OCR_DETECTOR_OFF,   /* the whole frame only */
    OCR_DETECTOR_UNION, /* the whole frame; when it gave no code, each region the learned
                           text-region detector proposes, cut out, scaled to characters about
                           36 px high and contrast-stretched */
    OCR_DETECTOR_ONLY,  /* only the detector's regions */
} OcrDetector;

typedef struct {
    int min_char_height;   /* pixels in the frame; default 10; at least 10 pixels of the
                              detection image (the frame halved when wider than 1200) */
    int max_char_height;   /* default 200 */
    double min_confidence; /* reads below are dropped; default 0.4 */
    double weak_reads;     /* when > 0, the codes under min_confidence down to this that the
                              reader kept while reading (the 4 surest of the whole frame and
                              of the detector's regions) are added to the reads once every
                              stage has run, for a fusion to pool; unlike a lower
                              min_confidence they stop no stage (a code at 0.25 would end the
                              reading before a later stage finds one at 0.98). Default 0 */
    gboolean vertical;     /* look for vertical columns too; default TRUE */
    const Iso6346Owners *owners; /* optional owner-code list (not owned): codes whose owner
                                    is not listed get their confidence halved */
    gboolean debug;          /* print the lines and columns found and every candidate read on
                                stderr; default TRUE when PS_OCR_DEBUG is set */
    const char *dump_prefix; /* write each pass's binarization as PREFIX-N.png and each strip
                                the line reader reads as PREFIX-line-X-Y-xH.pgm (not owned);
                                default $PS_OCR_DUMP, else NULL */
    OcrDetector detector;    /* default OCR_DETECTOR_UNION; $PS_OCR_DETECTOR = off or only sets
                                the others (read by ocr_options_init()) */
    double detector_threshold;      /* heat-map cells at or above are text; default 0.5 */
    double detector_min_confidence; /* reads found only in a detector region are kept at or
                                       above this confidence; default 0.6 */
    gboolean line_reader; /* when the frame and the detector's regions gave no code, read the
                             lines the detector finds with the line network (CTC); codes it
                             reads are kept at detector_min_confidence. Default TRUE;
                             $PS_OCR_LINES=off sets FALSE. Needs the detector (not _OFF). */
    gboolean line_check;  /* the best code the whole frame gave, when under 0.95, is read again
                             by the line reader: where it reads another code at the same place,
                             the code more confident by 0.1 is kept, neither when they are
                             closer (nor when it reads the frame's code there too, as surely
                             less 0.1). Default TRUE; $PS_OCR_LINE_CHECK=off sets FALSE. Needs
                             line_reader and the detector. */
    gboolean enlarge_regions; /* when nothing else gave a code, the detector's regions are read
                                 again enlarged 3 times (a blob of several rows was taken for
                                 one line of larger characters), up to twice the frame's
                                 pixels. Default TRUE; $PS_OCR_ENLARGE=off sets FALSE. Needs
                                 the detector. */
    gboolean confirm_weak; /* when nothing else gave a code, the surest code the whole frame
                              gave under min_confidence, when on one line, is read by the line
                              reader along its own box and along the lines the components
                              made; where it reads the same code at
                              detector_min_confidence or more, that code is kept at the line
                              reader's confidence. Default TRUE; $PS_OCR_CONFIRM=off sets
                              FALSE. Needs line_reader and the detector. */
    gboolean chain_lines; /* when nothing else gave a code, the longest lines of characters
                             the whole frame's components made are read by the line reader,
                             codes kept at 0.8 and only where the character network reads no
                             component as another character (at 0.2 or more). Default TRUE;
                             $PS_OCR_CHAINS=off sets FALSE. Needs line_reader and the
                             detector. */
    gboolean owner_search; /* when nothing else gave a code, each serial the line reader read
                              alone (7 digits) is joined with an owner code it reads before it
                              on its line (up to 14 character heights) or on a row above; codes
                              kept at 0.95. Default TRUE; $PS_OCR_OWNERS=off sets FALSE. Needs
                              line_reader and the detector. */
    gboolean fuse_weak; /* when nothing else gave a code, the 4 surest codes the whole frame
                           and the detector's regions gave under min_confidence are each
                           pooled, character by character, with what the line reader read at
                           their place (as two views of one container, OcrFusion); a pooled
                           code at 0.95 or more is kept. Default TRUE; $PS_OCR_FUSE=off sets
                           FALSE. Needs line_reader and the detector. */
    gboolean wide_pieces; /* an M or W the binarization broke into pieces is read whole: a
                             piece of a column read again as wide as a letter, two pieces of a
                             line joined; kept where the network reads an M or W at 0.8 or more.
                             Default TRUE; $PS_OCR_PIECES=off sets FALSE (only a W as wide as
                             one joined, as before). */
    gboolean unseen_digits; /* a code whose serial digit the network reads as no digit (a
                               box's edge, a mark), which only the check digit makes a digit,
                               is kept only at 0.6 or more with every other character read at
                               0.9 or more, as one whose digit is lost. Default TRUE;
                               $PS_OCR_UNSEEN=off sets FALSE (kept as any other code). */
    gboolean even_serials; /* a window whose serial has two neighbours closer than half the
                              serial's median pitch (a box's edge or a mark taken for a digit,
                              a character read twice) is shifted (the character reader's) or
                              no code (the line reader's). Default TRUE; $PS_OCR_EVEN=off sets
                              FALSE. */
    gboolean weak_rows; /* a code under the minimum read as an owner row over a serial row is
                           pooled (fuse_weak) with the line reader's reading of its two rows,
                           as one on a line is with its reading of its own box. Default TRUE;
                           $PS_OCR_ROWS=off sets FALSE. */
    gboolean weak_columns; /* a code under the minimum read down a column is pooled with the
                              line reader's reading of its 11 characters laid side by side on
                              one line. Default TRUE; $PS_OCR_COLUMNS=off sets FALSE. */
    gboolean dark_pass; /* when the five thresholding passes read no code, a sixth, 7 grey
                           levels off the local mean where that mean is under 48 (night,
                           shadow: paint only a few levels off dark steel), its codes read
                           clear of junk. Default TRUE; $PS_OCR_DARK=off sets FALSE. */
    gboolean region_chains; /* the lines of 6 or more characters the components made in the
                               detector's regions join the whole frame's (chain_lines) where
                               it has none: the owner search finds the owner code of a serial
                               only a region read (an owner code on another door panel, outside
                               the region). Default TRUE; $PS_OCR_REGION_CHAINS=off sets FALSE.
                               Needs chain_lines or owner_search. */
    gboolean wide_lines; /* when the line reader's stages give the frame no code, they run
                            again with a second network, wider and trained on 2.2 times the
                            strips, which reads other rows right (it alone reads worse at
                            1080p). Default TRUE; $PS_OCR_WIDE=off sets FALSE. Needs
                            line_reader and the detector. */
    gboolean far_ends; /* when the line reader's stages give the frame no code, the components'
                          lines are read again to 2 character heights past their end (1 in
                          the stages before): a boxed check digit standing further off, its
                          codes kept only from 0.95. Default TRUE; $PS_OCR_FAR_ENDS=off sets
                          FALSE. Needs line_reader and chain_lines. */
    gboolean cross_joins; /* when the line reader's stages give the frame no code, an owner
                             code read on one of the detector's lines is joined with a serial
                             read on one of the components' lines, or the reverse (two door
                             panels), kept from 0.95. Default TRUE; $PS_OCR_CROSS=off sets
                             FALSE. Needs line_reader and chain_lines. */
    gboolean avx2; /* the networks run their AVX2 code where the processor has it (vectors of
                      8 floats, a fifth to a quarter less CPU on a frame without a code); the
                      codes, confidences and probabilities are the same floats either way.
                      Default TRUE; $PS_OCR_AVX2=off sets FALSE (SSE2 only). */
    gboolean keep_buffers; /* a PsOcr keeps the large working buffers of a frame (the gray
                              and shrunk frame, its means, the networks' activations) for the
                              next: those the last frame used, at most 16 and 64 MB. Freed,
                              most go back to the kernel and come again as page faults (about
                              1,700 on a 960x540 frame). The same reads either way. Default
                              TRUE; $PS_OCR_KEEP_BUFFERS=off sets FALSE. */
} OcrOptions;

/* Fills @opts with the defaults (the environment is read here, never while reading). */
void ocr_options_init(OcrOptions *opts);

typedef enum { OCR_HORIZONTAL, OCR_VERTICAL } OcrOrientation;

/* Per-position probabilities of an 11-character code, rows sum to 1. */
typedef struct {
    float p[OCR_CODE_LEN][OCR_N_CLASSES];
} OcrCodeProbs;

typedef struct {
    char code[OCR_CODE_LEN + 1]; /* passes the check digit */
    char size_type[5];           /* "22G1" when read and valid, else "" */
    double confidence;           /* 0..1 */
    int bbox[4];                 /* x, y, w, h in frame pixels */
    OcrOrientation orientation;
    OcrCodeProbs probs; /* the character evidence the code was chosen from (for fusion) */
} OcrRead;

typedef struct {
    int n_reads;                  /* best first */
    OcrRead reads[OCR_MAX_READS]; /* only codes that pass the check digit */
} OcrReads;

typedef struct _PsOcr PsOcr;

/* A recognizer. @opts may be NULL (defaults). Free with ocr_free(). */
PsOcr *ocr_new(const OcrOptions *opts, GError **error);
void ocr_free(PsOcr *ocr);

/* Reads the container codes in one frame. @pixels has @height rows of @stride bytes in @fmt.
 * Fills @out (n_reads may be 0). Returns FALSE only on bad arguments. */
gboolean ocr_read(PsOcr *ocr, const guint8 *pixels, int width, int height, int stride,
                  OcrPixelFormat fmt, OcrReads *out, GError **error);

/* Images over this many pixels (width x height, from the header), or with a side over 8192
 * pixels, are refused before they are decoded: 40 megapixels, above any camera frame in use (4K
 * is 8.3). A JPEG or HEIF photo over either, up to OCR_MAX_PHOTO_PIXELS (a 48, 50 or 108
 * megapixel phone photo, a panorama), is read at a half, a quarter or an eighth of its width
 * and height (a JPEG through the decoder's own scaling, luminance only; a HEIF photo decoded
 * whole, then halved by area), the least that brings it under both; its boxes are given in the
 * file's pixels. */
#define OCR_MAX_PIXELS 40000000
#define OCR_MAX_PHOTO_PIXELS (4 * (gint64)OCR_MAX_PIXELS)

/* Reads an image file (JPEG, PNG, ... through Leptonica; HEIF, an iPhone's HEIC, through
 * libheif). A JPEG is read as its EXIF orientation says it is seen, a HEIF photo as its own
 * transformations say; boxes are in the picture as seen. FALSE with an error naming the file
 * when it cannot be decoded. Silences Leptonica's own stderr messages (a process-wide setting). */
gboolean ocr_read_file(PsOcr *ocr, const char *path, OcrReads *out, GError **error);

/* The same for an encoded image of @size bytes at @data (not kept). */
gboolean ocr_read_memory(PsOcr *ocr, const guint8 *data, gsize size, OcrReads *out,
                         GError **error);

/* Code assembly: the most probable code under @probs that passes the check digit (owner
 * positions restricted to letters, category to U/J/Z, serial and check digit to digits).
 * Writes it to @code (12 bytes) and returns its confidence: the geometric mean of its character
 * probabilities times its share of the probability of all valid codes. Pure. */
double ocr_assemble(const OcrCodeProbs *probs, char code[OCR_CODE_LEN + 1]);

/* Size/type assembly: the most probable valid ISO 6346 size/type code under @p (4 rows).
 * Returns its probability (geometric mean) and fills @out (5 bytes), or 0 with "" when no
 * valid code has any probability. */
double ocr_assemble_size_type(const float p[4][OCR_N_CLASSES], char out[5]);

/* Fusion of reads of one or more containers seen in several frames or by several cameras.
 * Reads are grouped by container (their codes differ in at most 3 characters); a group's
 * character probabilities are multiplied (log-linear pooling; each read's distribution is first
 * mixed with @floor of a uniform one, so one confident wrong read cannot veto the others) and
 * the code re-assembled. Two fused codes of one serial and check digit, or of one owner code
 * and a serial moved a place or two, are one container some reads misread: only the more
 * confident is given, at the odds that it is the right one of the two (c1 (1 - c2) / (1 - c1
 * c2), each read right with its confidence, apart): two such codes equally sure confirm
 * neither. */
typedef struct {
    double floor;           /* uniform mixture weight, 0 < floor < 1; default 0.05 */
    double min_confidence;  /* a fused code is confirmed at or above; default 0.8 */
    int min_reads;          /* and when at least this many reads support it; default 1 */
    double min_read_confidence; /* reads below this are ignored entirely; default 0.0 */
} OcrFusionOptions;

void ocr_fusion_options_init(OcrFusionOptions *opts);

typedef struct _OcrFusion OcrFusion;

OcrFusion *ocr_fusion_new(const OcrFusionOptions *opts); /* NULL: defaults */
void ocr_fusion_free(OcrFusion *fusion);
/* Adds one read (copied). Reads with a code that fails the check digit are still accepted:
 * only their probabilities count. */
void ocr_fusion_add(OcrFusion *fusion, const OcrRead *read);
/* Adds every read of one frame. */
void ocr_fusion_add_reads(OcrFusion *fusion, const OcrReads *reads);
/* The fused codes, best first, in @out. Only confirmed codes when @confirmed_only. Each read's
 * bbox and orientation are those of the group's most confident read; size_type is the one seen
 * most often (ties: most confident). */
void ocr_fusion_result(const OcrFusion *fusion, gboolean confirmed_only, OcrReads *out);
/* Forgets all reads (a new container at the gate). */
void ocr_fusion_reset(OcrFusion *fusion);

G_END_DECLS
