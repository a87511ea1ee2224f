/* Status names, messages and exit codes, all generated from EDGEC_STATUS_LIST, and the
 * per-thread detailed error message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"

static const char *const status_names[] = {
#define EDGEC_X_NAME(name, code, msg) #name,
    EDGEC_STATUS_LIST(EDGEC_X_NAME)
#undef EDGEC_X_NAME
};

static const char *const status_messages[] = {
#define EDGEC_X_MSG(name, code, msg) msg,
    EDGEC_STATUS_LIST(EDGEC_X_MSG)
#undef EDGEC_X_MSG
};

static const int status_codes[] = {
#define EDGEC_X_CODE(name, code, msg) code,
    EDGEC_STATUS_LIST(EDGEC_X_CODE)
#undef EDGEC_X_CODE
};

const char *edgec_status_name(edgec_status s)
{
    return (unsigned)s < EDGEC_STATUS_COUNT ? status_names[s] : "UNKNOWN";
}

const char *edgec_status_message(edgec_status s)
{
    return (unsigned)s < EDGEC_STATUS_COUNT ? status_messages[s] : "unknown status";
}

int edgec_status_exit_code(edgec_status s)
{
    return (unsigned)s < EDGEC_STATUS_COUNT ? status_codes[s] : 70;
}

/* One message per thread, so library calls in different threads do not mix messages. */
static _Thread_local char error_buf[1024];

const char *edgec_error_message(void)
{
    return error_buf;
}

edgec_status edgec__fail(edgec_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_buf, sizeof error_buf, fmt, ap);
    va_end(ap);
    return s;
}

edgec_status edgec__fail_prefix(const char *prefix)
{
    char tmp[sizeof error_buf];
    snprintf(tmp, sizeof tmp, "%s%s", prefix, error_buf);
    memcpy(error_buf, tmp, sizeof error_buf);
    return EDGEC_STATUS_OK;
}

void edgec__error_clear(void)
{
    error_buf[0] = '\0';
}
