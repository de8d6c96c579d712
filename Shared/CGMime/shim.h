#pragma once
// GMime 3 (Debian libgmime-3.0-dev): MIME parsing for intake's e-mail channel.
// GObject type checks are macros Swift cannot import, and walking the MIME tree needs a C
// callback: both are wrapped here as small typed functions named cgmime_*.
#include <gmime/gmime.h>
#include <string.h>

/** Initializes GMime once per process (callers serialize the first call). */
static inline void cgmime_init(void) {
    static int initialized = 0;
    if (!initialized) {
        g_mime_init();
        initialized = 1;
    }
}

/** Parses one RFC 5322 message from memory; NULL when it is not a message. Free with cgmime_unref. */
static inline GMimeMessage *cgmime_parse(const char *data, size_t length) {
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, length);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    g_object_unref(stream);
    GMimeMessage *message = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    return message;
}

static inline void cgmime_unref(void *object) { if (object) g_object_unref(object); }

/** The raw (undecoded) value of a top-level header, or NULL. */
static inline const char *cgmime_header(GMimeMessage *message, const char *name) {
    return g_mime_object_get_header((GMimeObject *)message, name);
}

/** The subject with RFC 2047 encoded words decoded to UTF-8, or NULL. */
static inline const char *cgmime_subject(GMimeMessage *message) { return g_mime_message_get_subject(message); }

/** The Message-ID without angle brackets, or NULL. */
static inline const char *cgmime_message_id(GMimeMessage *message) { return g_mime_message_get_message_id(message); }

/** Number of addresses in From (0), To (1), Cc (2) or Reply-To (3). */
static inline InternetAddressList *cgmime_addresses(GMimeMessage *message, int which) {
    switch (which) {
    case 0: return g_mime_message_get_from(message);
    case 1: return g_mime_message_get_to(message);
    case 2: return g_mime_message_get_cc(message);
    default: return g_mime_message_get_reply_to(message);
    }
}

static inline int cgmime_address_count(InternetAddressList *list) { return list ? internet_address_list_length(list) : 0; }

/** The e-mail address of mailbox `index` (NULL for a group). */
static inline const char *cgmime_address_email(InternetAddressList *list, int index) {
    InternetAddress *address = internet_address_list_get_address(list, index);
    if (!INTERNET_ADDRESS_IS_MAILBOX(address)) return NULL;
    return internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address));
}

/** The display name of address `index` (decoded), or NULL. */
static inline const char *cgmime_address_name(InternetAddressList *list, int index) {
    return internet_address_get_name(internet_address_list_get_address(list, index));
}

static void cgmime_collect_leaf(GMimeObject *parent, GMimeObject *part, gpointer data) {
    (void)parent;
    // A forwarded message (message/rfc822) is one leaf: kept whole, not walked into.
    if (GMIME_IS_PART(part) || GMIME_IS_MESSAGE_PART(part)) g_ptr_array_add((GPtrArray *)data, part);
}

/** Every leaf part (text, attachments, attached messages) in tree order; free the array with cgmime_free_parts. */
static inline GPtrArray *cgmime_leaf_parts(GMimeMessage *message) {
    GPtrArray *parts = g_ptr_array_new();
    g_mime_message_foreach(message, cgmime_collect_leaf, parts);
    return parts;
}

static inline unsigned cgmime_parts_count(GPtrArray *parts) { return parts->len; }
static inline GMimeObject *cgmime_parts_at(GPtrArray *parts, unsigned index) { return (GMimeObject *)g_ptr_array_index(parts, index); }
static inline void cgmime_free_parts(GPtrArray *parts) { g_ptr_array_free(parts, TRUE); }

/** "type/subtype" of a part, lower-case as written; free with g_free. */
static inline char *cgmime_part_mime_type(GMimeObject *part) {
    GMimeContentType *type = g_mime_object_get_content_type(part);
    return g_mime_content_type_get_mime_type(type);
}

/** Whether the part is an attached message (message/rfc822, message/global). */
static inline int cgmime_part_is_message(GMimeObject *part) { return GMIME_IS_MESSAGE_PART(part) ? 1 : 0; }

/** Whether the part is marked `Content-Disposition: attachment`. */
static inline int cgmime_part_is_attachment(GMimeObject *part) {
    GMimeContentDisposition *disposition = g_mime_object_get_content_disposition(part);
    return disposition && g_mime_content_disposition_is_attachment(disposition) ? 1 : 0;
}

/** The part's file name (decoded, RFC 2231/2047): Content-Disposition `filename`, else
 *  Content-Type `name`; NULL when neither. */
static inline const char *cgmime_part_filename(GMimeObject *part) {
    if (GMIME_IS_PART(part)) return g_mime_part_get_filename((GMimePart *)part);
    const char *name = g_mime_object_get_content_disposition_parameter(part, "filename");
    return name ? name : g_mime_object_get_content_type_parameter(part, "name");
}

/** The Content-Type `charset` parameter as written, or NULL. */
static inline const char *cgmime_part_charset(GMimeObject *part) {
    return g_mime_object_get_content_type_parameter(part, "charset");
}

/** The subject of an attached message (decoded), or NULL. */
static inline const char *cgmime_part_message_subject(GMimeObject *part) {
    if (!GMIME_IS_MESSAGE_PART(part)) return NULL;
    GMimeMessage *message = g_mime_message_part_get_message((GMimeMessagePart *)part);
    return message ? g_mime_message_get_subject(message) : NULL;
}

/** A part's content: a leaf's with its transfer encoding (base64, quoted-printable) undone, an
 *  attached message as RFC 5322 bytes; free with g_byte_array_unref. */
static inline GByteArray *cgmime_part_bytes(GMimeObject *part) {
    GByteArray *bytes = g_byte_array_new();
    GMimeStream *out = g_mime_stream_mem_new_with_byte_array(bytes);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(out), FALSE);
    if (GMIME_IS_MESSAGE_PART(part)) {
        GMimeMessage *message = g_mime_message_part_get_message((GMimeMessagePart *)part);
        if (message) g_mime_object_write_to_stream((GMimeObject *)message, NULL, out);
    } else if (GMIME_IS_PART(part)) {
        GMimeDataWrapper *content = g_mime_part_get_content((GMimePart *)part);
        if (content) g_mime_data_wrapper_write_to_stream(content, out);
    }
    g_object_unref(out);
    return bytes;
}

/** `length` bytes in `charset` converted to UTF-8 (`*written` bytes, NUL-terminated; free with
 *  g_free); NULL when iconv does not know the charset or the bytes are not valid in it (nothing
 *  is dropped or replaced silently, unlike GMime's charset filter). */
static inline char *cgmime_convert(const guint8 *data, size_t length, const char *charset, size_t *written) {
    GError *error = NULL;
    gsize out = 0;
    char *result = g_convert((const gchar *)data, (gssize)length, "UTF-8", g_mime_charset_iconv_name(charset), NULL, &out, &error);
    if (error) {
        g_error_free(error);
        g_free(result);
        return NULL;
    }
    *written = out;
    return result;
}

static inline const guint8 *cgmime_bytes_data(GByteArray *bytes) { return bytes->data; }
static inline guint cgmime_bytes_length(GByteArray *bytes) { return bytes->len; }
static inline void cgmime_bytes_free(GByteArray *bytes) { g_byte_array_unref(bytes); }
static inline void cgmime_free(void *pointer) { g_free(pointer); }
