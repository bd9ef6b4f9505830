// libcurl (Debian: libcurl4-openssl-dev) for SMTP with STARTTLS and AUTH. curl_easy_setopt and
// curl_easy_getinfo are variadic, which Swift cannot call: these typed wrappers can.
#include <curl/curl.h>

typedef size_t (*bridge_curl_read_callback)(char *buffer, size_t size, size_t items, void *context);

static inline CURLcode bridge_curl_set_long(CURL *curl, CURLoption option, long value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode bridge_curl_set_string(CURL *curl, CURLoption option, const char *value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode bridge_curl_set_pointer(CURL *curl, CURLoption option, void *value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode bridge_curl_set_read_function(CURL *curl, bridge_curl_read_callback function) {
    return curl_easy_setopt(curl, CURLOPT_READFUNCTION, function);
}

static inline long bridge_curl_response_code(CURL *curl) {
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

// The socket of a CURLOPT_CONNECT_ONLY connection, to wait on it with poll() (IMAP IDLE).
static inline curl_socket_t bridge_curl_active_socket(CURL *curl) {
    curl_socket_t socket = CURL_SOCKET_BAD;
    curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &socket);
    return socket;
}
