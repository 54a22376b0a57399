/* scene.c: what the overlay draws, filled by the application, read by the streaming threads. */
#include <string.h>

#include "overlay-private.h"

/* Caps: a scene is fed from the network, so nothing in it grows without bound. */
#define MAX_DETECTIONS 512
#define MAX_CONTAINERS 20000 /* then the least recently put is evicted */
#define MAX_VESSELS 2000
/* Motion: two reads of one container between these many µs apart give its velocity; a box is
 * carried forward along it for at most MAX_EXTRAPOLATE_US after its last read. */
#define MIN_MOTION_DT_US (20 * 1000)
#define MAX_MOTION_DT_US (1500 * 1000)
#define MAX_EXTRAPOLATE_US (1000 * 1000)

struct PsScene {
    GMutex lock;
    gint64 ttl_us;
    GPtrArray *detections;   /* (element-type OverlayDetection) */
    GHashTable *containers;  /* code -> PsSceneContainer (owned strings) */
    GQueue *order;           /* codes (owned), least recently put first: evicted first */
    GHashTable *order_links; /* code (the queue's string) -> its GList link in @order */
    GHashTable *vessels;     /* mmsi -> OverlayVessel */
    GHashTable *models;      /* camera name (owned) -> const PsCameraModel * (borrowed) */
    char *selected_code;
    guint32 selected_mmsi;
    guint64 version;
};

static void detection_free(gpointer p)
{
    OverlayDetection *d = p;
    g_free(d->camera);
    g_free(d);
}

static void info_free(gpointer p)
{
    PsSceneContainer *i = p;
    overlay_container_info_clear(i);
    g_free(i);
}

static void vessel_free(gpointer p)
{
    OverlayVessel *v = p;
    g_free(v->name);
    g_free(v->type);
    g_free(v->track);
    g_free(v);
}

PsScene *overlay_scene_new(gint64 ttl_us)
{
    PsScene *s = g_new0(PsScene, 1);
    g_mutex_init(&s->lock);
    s->ttl_us = ttl_us > 0 ? ttl_us : 2 * G_USEC_PER_SEC;
    s->detections = g_ptr_array_new_with_free_func(detection_free);
    s->containers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, info_free);
    s->order = g_queue_new();
    s->order_links = g_hash_table_new(g_str_hash, g_str_equal);
    s->vessels = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, vessel_free);
    s->models = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return s;
}

void overlay_scene_free(PsScene *s)
{
    if (!s)
        return;
    g_ptr_array_unref(s->detections);
    g_hash_table_unref(s->containers);
    g_hash_table_unref(s->order_links);
    g_queue_free_full(s->order, g_free);
    g_hash_table_unref(s->vessels);
    g_hash_table_unref(s->models);
    g_free(s->selected_code);
    g_mutex_clear(&s->lock);
    g_free(s);
}

/* Each camera's detections are timed by that camera's clock (its stream time), so only
 * @camera's are compared with @now_us. */
static void expire(PsScene *s, const char *camera, gint64 now_us)
{
    for (guint i = s->detections->len; i-- > 0;) {
        OverlayDetection *d = g_ptr_array_index(s->detections, i);
        if (strcmp(d->camera, camera) == 0 && (now_us - d->seen_us > s->ttl_us ||
                                               d->seen_us > now_us + s->ttl_us))
            g_ptr_array_remove_index_fast(s->detections, i);
    }
}

void overlay_scene_put_detection(PsScene *s, const char *camera, const char *code,
                                 const char *size_type, const double bbox[4], double confidence,
                                 gint64 now_us)
{
    g_return_if_fail(s && camera && code && bbox);
    g_mutex_lock(&s->lock);
    expire(s, camera, now_us);
    OverlayDetection *d = NULL;
    for (guint i = 0; i < s->detections->len && !d; i++) {
        OverlayDetection *e = g_ptr_array_index(s->detections, i);
        if (strcmp(e->camera, camera) == 0 && strcmp(e->code, code) == 0)
            d = e;
    }
    if (!d) {
        if (s->detections->len >= MAX_DETECTIONS) { /* drop the oldest */
            guint oldest = 0;
            for (guint i = 1; i < s->detections->len; i++)
                if (((OverlayDetection *)g_ptr_array_index(s->detections, i))->seen_us <
                    ((OverlayDetection *)g_ptr_array_index(s->detections, oldest))->seen_us)
                    oldest = i;
            g_ptr_array_remove_index_fast(s->detections, oldest);
        }
        d = g_new0(OverlayDetection, 1);
        d->camera = g_strdup(camera);
        g_strlcpy(d->code, code, sizeof d->code);
        g_ptr_array_add(s->detections, d);
    }
    g_strlcpy(d->size_type, size_type ? size_type : "", sizeof d->size_type);
    gint64 dt = now_us - d->seen_us;
    if (d->seen_us && dt >= MIN_MOTION_DT_US && dt <= MAX_MOTION_DT_US) {
        for (int k = 0; k < 2; k++)
            d->vel[k] = ((bbox[k] + bbox[k + 2] / 2) - (d->bbox[k] + d->bbox[k + 2] / 2)) /
                        (dt / 1e6);
    } else if (dt != 0) {
        d->vel[0] = d->vel[1] = 0; /* first read, too far apart, or out of order */
    }
    memcpy(d->bbox, bbox, sizeof d->bbox);
    d->confidence = confidence;
    d->seen_us = now_us;
    s->version++;
    g_mutex_unlock(&s->lock);
}

void overlay_scene_put_container(PsScene *s, const PsSceneContainer *in)
{
    g_return_if_fail(s && in && in->code);
    PsSceneContainer *c = g_new0(PsSceneContainer, 1);
    c->code = g_strdup(in->code);
    c->declaration = g_strdup(in->declaration);
    c->origin = g_strdup(in->origin);
    c->destination = g_strdup(in->destination);
    c->goods = g_strdup(in->goods);
    c->consignee = g_strdup(in->consignee);
    c->vessel = g_strdup(in->vessel);
    c->status = in->status;
    c->reason = g_strdup(in->reason);
    c->size_type = g_strdup(in->size_type);
    g_mutex_lock(&s->lock);
    GList *link = g_hash_table_lookup(s->order_links, c->code);
    if (link) {
        g_queue_unlink(s->order, link);
        g_queue_push_tail_link(s->order, link);
    } else {
        /* Full: the container put least recently goes (not the selected one). */
        while (g_hash_table_size(s->containers) >= MAX_CONTAINERS && s->order->head) {
            GList *old = s->order->head;
            if (s->selected_code && strcmp(old->data, s->selected_code) == 0 &&
                s->order->length > 1) {
                g_queue_unlink(s->order, old);
                g_queue_push_tail_link(s->order, old);
                old = s->order->head;
            }
            g_queue_unlink(s->order, old);
            g_hash_table_remove(s->order_links, old->data);
            g_hash_table_remove(s->containers, old->data);
            g_free(old->data);
            g_list_free_1(old);
        }
        char *code = g_strdup(c->code);
        g_queue_push_tail(s->order, code);
        g_hash_table_insert(s->order_links, code, s->order->tail);
    }
    g_hash_table_replace(s->containers, (gpointer)c->code, c);
    s->version++;
    g_mutex_unlock(&s->lock);
}

void overlay_scene_set_verdict(PsScene *s, const char *code, PsContainerStatus status,
                               const char *reason)
{
    g_return_if_fail(s && code);
    g_mutex_lock(&s->lock);
    PsSceneContainer *c = g_hash_table_lookup(s->containers, code);
    if (c) {
        if (c->status != status || g_strcmp0(c->reason, reason) != 0) {
            c->status = status;
            g_free((char *)c->reason);
            c->reason = g_strdup(reason);
            s->version++;
        }
        g_mutex_unlock(&s->lock);
        return;
    }
    g_mutex_unlock(&s->lock);
    PsSceneContainer in = {.code = code, .status = status, .reason = reason};
    overlay_scene_put_container(s, &in);
}

void overlay_scene_put_vessel(PsScene *s, const PsSceneVessel *in)
{
    g_return_if_fail(s && in);
    OverlayVessel *v = g_new0(OverlayVessel, 1);
    v->mmsi = in->mmsi;
    v->name = g_strdup(in->name ? in->name : "");
    v->type = g_strdup(in->type ? in->type : "");
    v->lat = in->lat;
    v->lon = in->lon;
    v->sog_kn = in->sog_kn;
    v->cog_deg = in->cog_deg;
    gsize n = in->track ? MIN(in->track_len, PS_SCENE_TRACK_MAX) : 0;
    v->track_len = n;
    v->track = g_malloc_n(MAX(n, 1), sizeof *v->track);
    if (n)
        memcpy(v->track, in->track + (in->track_len - n), n * sizeof *v->track);
    g_mutex_lock(&s->lock);
    if (g_hash_table_size(s->vessels) >= MAX_VESSELS &&
        !g_hash_table_contains(s->vessels, GUINT_TO_POINTER(v->mmsi))) {
        g_mutex_unlock(&s->lock);
        vessel_free(v);
        return;
    }
    g_hash_table_replace(s->vessels, GUINT_TO_POINTER(v->mmsi), v);
    s->version++;
    g_mutex_unlock(&s->lock);
}

void overlay_scene_remove_vessel(PsScene *s, guint32 mmsi)
{
    g_mutex_lock(&s->lock);
    g_hash_table_remove(s->vessels, GUINT_TO_POINTER(mmsi));
    s->version++;
    g_mutex_unlock(&s->lock);
}

void overlay_scene_select(PsScene *s, const char *code, guint32 mmsi)
{
    g_mutex_lock(&s->lock);
    g_free(s->selected_code);
    s->selected_code = code && *code ? g_strdup(code) : NULL;
    s->selected_mmsi = s->selected_code ? 0 : mmsi;
    s->version++;
    g_mutex_unlock(&s->lock);
}

guint overlay_scene_count_detections(PsScene *s, const char *camera, gint64 now_us)
{
    guint n = 0;
    g_mutex_lock(&s->lock);
    for (guint i = 0; i < s->detections->len; i++) {
        OverlayDetection *d = g_ptr_array_index(s->detections, i);
        if ((!camera || strcmp(d->camera, camera) == 0) && now_us - d->seen_us <= s->ttl_us)
            n++;
    }
    g_mutex_unlock(&s->lock);
    return n;
}

gboolean overlay_scene_vessel_position(PsScene *s, guint32 mmsi, double *lat, double *lon)
{
    g_mutex_lock(&s->lock);
    const OverlayVessel *v = g_hash_table_lookup(s->vessels, GUINT_TO_POINTER(mmsi));
    if (v) {
        *lat = v->lat;
        *lon = v->lon;
    }
    g_mutex_unlock(&s->lock);
    return v != NULL;
}

gboolean overlay_scene_find_detection(PsScene *s, const char *code, const char *camera,
                                      char **camera_out, double bbox[4])
{
    const OverlayDetection *best = NULL;
    g_mutex_lock(&s->lock);
    for (guint i = 0; i < s->detections->len; i++) {
        const OverlayDetection *d = g_ptr_array_index(s->detections, i);
        if (strcmp(d->code, code) == 0 && (!camera || strcmp(d->camera, camera) == 0) &&
            (!best || d->seen_us > best->seen_us))
            best = d;
    }
    if (best) {
        if (camera_out)
            *camera_out = g_strdup(best->camera);
        memcpy(bbox, best->bbox, sizeof best->bbox);
    }
    g_mutex_unlock(&s->lock);
    return best != NULL;
}

/* The camera's clock is its own: its latest read stands for "now". Under the lock. */
static gint64 camera_now(PsScene *s, const char *camera)
{
    gint64 now = G_MININT64;
    for (guint i = 0; i < s->detections->len; i++) {
        const OverlayDetection *d = g_ptr_array_index(s->detections, i);
        if (strcmp(d->camera, camera) == 0)
            now = MAX(now, d->seen_us);
    }
    return now;
}

void overlay_scene_list(PsScene *s, const char *camera, GArray *out)
{
    g_mutex_lock(&s->lock);
    gint64 now = camera_now(s, camera);
    for (guint i = 0; i < s->detections->len; i++) {
        const OverlayDetection *d = g_ptr_array_index(s->detections, i);
        if (strcmp(d->camera, camera) != 0 || now - d->seen_us > s->ttl_us)
            continue;
        double ahead = CLAMP(now - d->seen_us, 0, MAX_EXTRAPOLATE_US) / 1e6;
        PsSceneBox b = {{0}, {d->bbox[0] + d->vel[0] * ahead, d->bbox[1] + d->vel[1] * ahead,
                              d->bbox[2], d->bbox[3]}};
        g_strlcpy(b.code, d->code, sizeof b.code);
        g_array_append_val(out, b);
    }
    g_mutex_unlock(&s->lock);
}

char *overlay_scene_pick(PsScene *s, const char *camera, double x, double y, double margin)
{
    char *code = NULL;
    g_mutex_lock(&s->lock);
    /* The boxes are carried along their velocity to the camera's latest read, as the
     * renderer does. */
    gint64 now = camera_now(s, camera);
    double best = G_MAXDOUBLE;
    for (guint i = 0; i < s->detections->len; i++) {
        const OverlayDetection *d = g_ptr_array_index(s->detections, i);
        if (strcmp(d->camera, camera) != 0 || now - d->seen_us > s->ttl_us)
            continue;
        double ahead = CLAMP(now - d->seen_us, 0, MAX_EXTRAPOLATE_US) / 1e6;
        double bx = d->bbox[0] + d->vel[0] * ahead, by = d->bbox[1] + d->vel[1] * ahead;
        double dx = x < bx ? bx - x : x > bx + d->bbox[2] ? x - bx - d->bbox[2] : 0;
        double dy = y < by ? by - y : y > by + d->bbox[3] ? y - by - d->bbox[3] : 0;
        double dist = dx * dx + dy * dy;
        if (dist <= margin * margin && dist < best) {
            best = dist;
            g_free(code);
            code = g_strdup(d->code);
        }
    }
    g_mutex_unlock(&s->lock);
    return code;
}

static void info_copy(const PsSceneContainer *in, PsSceneContainer *out)
{
    out->code = g_strdup(in->code);
    out->declaration = g_strdup(in->declaration);
    out->origin = g_strdup(in->origin);
    out->destination = g_strdup(in->destination);
    out->goods = g_strdup(in->goods);
    out->consignee = g_strdup(in->consignee);
    out->vessel = g_strdup(in->vessel);
    out->status = in->status;
    out->reason = g_strdup(in->reason);
    out->size_type = g_strdup(in->size_type);
}

gboolean overlay_scene_get_container(PsScene *s, const char *code, PsSceneContainer *out)
{
    memset(out, 0, sizeof *out);
    g_mutex_lock(&s->lock);
    const PsSceneContainer *c = g_hash_table_lookup(s->containers, code);
    if (c)
        info_copy(c, out);
    g_mutex_unlock(&s->lock);
    return c != NULL;
}

void overlay_container_info_clear(PsSceneContainer *i)
{
    if (!i)
        return;
    g_free((char *)i->code);
    g_free((char *)i->declaration);
    g_free((char *)i->origin);
    g_free((char *)i->destination);
    g_free((char *)i->goods);
    g_free((char *)i->consignee);
    g_free((char *)i->vessel);
    g_free((char *)i->reason);
    g_free((char *)i->size_type);
    memset(i, 0, sizeof *i);
}

/* ---- snapshots for the renderer ---- */

void overlay__snapshot_take(PsScene *s, const char *camera, gint64 now_us, OverlaySnapshot *snap)
{
    memset(snap, 0, sizeof *snap);
    snap->items = g_array_new(FALSE, TRUE, sizeof(OverlaySnapItem));
    snap->vessels = g_ptr_array_new_with_free_func(vessel_free);
    g_mutex_lock(&s->lock);
    for (guint i = 0; i < s->detections->len; i++) {
        OverlayDetection *d = g_ptr_array_index(s->detections, i);
        if (strcmp(d->camera, camera) != 0 || now_us - d->seen_us > s->ttl_us)
            continue;
        OverlaySnapItem it = {0};
        it.det = *d;
        it.det.camera = NULL;
        /* Where the container is now: moved on along its velocity since the read's frame. */
        double ahead = CLAMP(now_us - d->seen_us, 0, MAX_EXTRAPOLATE_US) / 1e6;
        it.det.bbox[0] += d->vel[0] * ahead;
        it.det.bbox[1] += d->vel[1] * ahead;
        const PsSceneContainer *c = g_hash_table_lookup(s->containers, d->code);
        if (c) {
            info_copy(c, &it.info);
            it.has_info = TRUE;
        }
        it.selected = s->selected_code && strcmp(s->selected_code, d->code) == 0;
        g_array_append_val(snap->items, it);
    }
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, s->vessels);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        const OverlayVessel *v = value;
        OverlayVessel *c = g_new0(OverlayVessel, 1);
        *c = *v;
        c->name = g_strdup(v->name);
        c->type = g_strdup(v->type);
        c->track = g_memdup2(v->track, MAX(v->track_len, 1) * sizeof *v->track);
        g_ptr_array_add(snap->vessels, c);
    }
    if (s->selected_code) {
        const PsSceneContainer *c = g_hash_table_lookup(s->containers, s->selected_code);
        snap->selected_code = g_strdup(s->selected_code);
        if (c) {
            info_copy(c, &snap->selected_info);
            snap->selected_has_info = TRUE;
        }
    }
    snap->selected_mmsi = s->selected_mmsi;
    g_mutex_unlock(&s->lock);
}

void overlay__snapshot_clear(OverlaySnapshot *snap)
{
    for (guint i = 0; snap->items && i < snap->items->len; i++)
        overlay_container_info_clear(&g_array_index(snap->items, OverlaySnapItem, i).info);
    if (snap->items)
        g_array_unref(snap->items);
    if (snap->vessels)
        g_ptr_array_unref(snap->vessels);
    g_free(snap->selected_code);
    overlay_container_info_clear(&snap->selected_info);
    memset(snap, 0, sizeof *snap);
}

void overlay_scene_set_camera_model(PsScene *s, const char *camera, const PsCameraModel *model)
{
    g_mutex_lock(&s->lock);
    if (model)
        g_hash_table_replace(s->models, g_strdup(camera), (gpointer)model);
    else
        g_hash_table_remove(s->models, camera);
    g_mutex_unlock(&s->lock);
}

gboolean overlay_scene_locate(PsScene *s, const char *code, guint32 mmsi, const char *camera,
                              double *lat, double *lon, char **seen_by, GError **error)
{
    if (seen_by)
        *seen_by = NULL;
    if (!code) {
        if (mmsi && overlay_scene_vessel_position(s, mmsi, lat, lon))
            return TRUE;
        g_set_error(error, OVERLAY_ERROR, OVERLAY_ERROR_INVALID, "vessel %u is not known", mmsi);
        return FALSE;
    }
    g_autofree char *cam = NULL;
    double bbox[4];
    if (!overlay_scene_find_detection(s, code, camera, &cam, bbox)) {
        g_set_error(error, OVERLAY_ERROR, OVERLAY_ERROR_INVALID,
                    "container %s is not in view of any camera", code);
        return FALSE;
    }
    g_mutex_lock(&s->lock);
    const PsCameraModel *model = g_hash_table_lookup(s->models, cam);
    g_mutex_unlock(&s->lock);
    /* the bottom centre of the box stands on the ground */
    if (!model ||
        !overlay_camera_unproject(model, bbox[0] + bbox[2] / 2, bbox[1] + bbox[3], lat, lon)) {
        g_set_error(error, OVERLAY_ERROR, OVERLAY_ERROR_INVALID,
                    "camera %s has no pose: cannot place %s on the ground", cam, code);
        return FALSE;
    }
    if (seen_by)
        *seen_by = g_steal_pointer(&cam);
    return TRUE;
}

gboolean overlay_scene_size_type(PsScene *s, const char *code, char out[5])
{
    out[0] = '\0';
    g_mutex_lock(&s->lock);
    const PsSceneContainer *c = code ? g_hash_table_lookup(s->containers, code) : NULL;
    if (c && c->size_type && *c->size_type)
        g_strlcpy(out, c->size_type, 5);
    const OverlayDetection *best = NULL;
    for (guint i = 0; !out[0] && code && i < s->detections->len; i++) {
        const OverlayDetection *d = g_ptr_array_index(s->detections, i);
        if (strcmp(d->code, code) == 0 && d->size_type[0] && (!best || d->seen_us > best->seen_us))
            best = d;
    }
    if (best)
        g_strlcpy(out, best->size_type, 5);
    g_mutex_unlock(&s->lock);
    return out[0] != '\0';
}

void overlay_scene_list_vessels(PsScene *s, const char *camera, int width, int height,
                                GArray *out)
{
    g_mutex_lock(&s->lock);
    const PsCameraModel *model = camera ? g_hash_table_lookup(s->models, camera) : NULL;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, s->vessels);
    while (model && g_hash_table_iter_next(&it, NULL, &value)) {
        const OverlayVessel *v = value;
        double x, y;
        if (!overlay_camera_project(model, v->lat, v->lon, 0.0, &x, &y) || x < 0 || y < 0 ||
            x > width || y > height)
            continue; /* as the renderer: only a vessel on the frame is drawn */
        PsSceneVesselBox b = {v->mmsi, "", {x - PS_SCENE_VESSEL_BOX / 2, y - PS_SCENE_VESSEL_BOX / 2,
                                            PS_SCENE_VESSEL_BOX, PS_SCENE_VESSEL_BOX}};
        g_strlcpy(b.name, v->name, sizeof b.name);
        g_array_append_val(out, b);
    }
    g_mutex_unlock(&s->lock);
}

guint32 overlay_scene_pick_vessel(PsScene *s, const char *camera, int width, int height,
                                  double x, double y, double margin)
{
    g_autoptr(GArray) boxes = g_array_new(FALSE, FALSE, sizeof(PsSceneVesselBox));
    overlay_scene_list_vessels(s, camera, width, height, boxes);
    guint32 mmsi = 0;
    double best = G_MAXDOUBLE;
    for (guint i = 0; i < boxes->len; i++) {
        const double *b = g_array_index(boxes, PsSceneVesselBox, i).bbox;
        double dx = x < b[0] ? b[0] - x : x > b[0] + b[2] ? x - b[0] - b[2] : 0;
        double dy = y < b[1] ? b[1] - y : y > b[1] + b[3] ? y - b[1] - b[3] : 0;
        double dist = dx * dx + dy * dy;
        if (dist <= margin * margin && dist < best) {
            best = dist;
            mmsi = g_array_index(boxes, PsSceneVesselBox, i).mmsi;
        }
    }
    return mmsi;
}

gboolean overlay_scene_get_vessel(PsScene *s, guint32 mmsi, PsSceneVessel *out)
{
    memset(out, 0, sizeof *out);
    g_mutex_lock(&s->lock);
    const OverlayVessel *v = g_hash_table_lookup(s->vessels, GUINT_TO_POINTER(mmsi));
    if (v) {
        out->mmsi = v->mmsi;
        out->name = g_strdup(v->name);
        out->type = g_strdup(v->type);
        out->lat = v->lat;
        out->lon = v->lon;
        out->sog_kn = v->sog_kn;
        out->cog_deg = v->cog_deg;
        out->track = g_memdup2(v->track, MAX(v->track_len, 1) * sizeof *v->track);
        out->track_len = v->track_len;
    }
    g_mutex_unlock(&s->lock);
    return v != NULL;
}

void overlay_vessel_clear(PsSceneVessel *v)
{
    if (!v)
        return;
    g_free((char *)v->name);
    g_free((char *)v->type);
    g_free((gpointer)v->track);
    memset(v, 0, sizeof *v);
}
