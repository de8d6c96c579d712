#pragma once
#include <curl/curl.h>

/* curl_easy_setopt and curl_easy_getinfo are variadic: typed wrappers Swift can call. */
static inline CURLcode ccurl_setopt_long(CURL *c, CURLoption o, long v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode ccurl_setopt_string(CURL *c, CURLoption o, const char *v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode ccurl_setopt_pointer(CURL *c, CURLoption o, void *v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode ccurl_setopt_slist(CURL *c, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode ccurl_setopt_write_function(CURL *c, size_t (*f)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, f);
}
static inline CURLcode ccurl_setopt_read_function(CURL *c, size_t (*f)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(c, CURLOPT_READFUNCTION, f);
}
static inline CURLcode ccurl_getinfo_long(CURL *c, CURLINFO i, long *v) { return curl_easy_getinfo(c, i, v); }
static inline CURLcode ccurl_setopt_header_function(CURL *c, size_t (*f)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, f);
}
static inline CURLcode ccurl_setopt_off_t(CURL *c, CURLoption o, curl_off_t v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode ccurl_global_init_all(void) { return curl_global_init(CURL_GLOBAL_ALL); }
static inline CURLcode ccurl_getinfo_string(CURL *c, CURLINFO i, char **v) { return curl_easy_getinfo(c, i, v); }
static inline CURLcode ccurl_setopt_xferinfo_function(CURL *c, int (*f)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t)) {
    return curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, f);
}
static inline CURLcode ccurl_getinfo_socket(CURL *c, CURLINFO i, curl_socket_t *v) { return curl_easy_getinfo(c, i, v); }
/* curl_multi_setopt is variadic too. */
static inline CURLMcode ccurl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }
/* Called with each resolved address before libcurl makes a socket for it (webhooks refuse blocked networks). */
static inline CURLcode ccurl_setopt_opensocket_function(CURL *c, curl_socket_t (*f)(void *, curlsocktype, struct curl_sockaddr *)) {
    return curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, f);
}
/* Lets an SMTP transfer go on when some of its recipients are refused (RCPT TO answered 4xx/5xx):
   the message goes to the others, and fails only when every recipient was refused. Option 290 is
   CURLOPT_MAIL_RCPT_ALLLOWFAILS in libcurl 7.69–8.1 (sic) and CURLOPT_MAIL_RCPT_ALLOWFAILS from 8.2. */
static inline CURLcode ccurl_setopt_allow_refused_recipients(CURL *c, long v) { return curl_easy_setopt(c, (CURLoption)290, v); }
