/* Status codes shared by every edgec function.
 *
 * Functions return an `edgec_status` and write their results through out-parameters.
 * When a function fails it also leaves a human-readable message, naming the file,
 * tensor or node involved, that `edgec_error_message()` returns. */
#ifndef EDGEC_STATUS_H
#define EDGEC_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/* The one list of statuses: X(NAME, process exit code, default message).
 * Exit codes follow the CLI contract: 0 ok, 1 usage, 2 invalid input, 3 quality gate
 * not met, 4 I/O or resource error, 5 unsupported model feature. */
#define EDGEC_STATUS_LIST(X)                                                          \
    X(OK, 0, "success")                                                               \
    X(USAGE, 1, "invalid usage")                                                      \
    X(INVALID_MODEL, 2, "invalid model")                                              \
    X(INVALID_DATA, 2, "invalid data file")                                           \
    X(LIMIT, 2, "input exceeds a safety limit")                                       \
    X(UNSAFE_PATH, 2, "external data path refused")                                   \
    X(GATE, 3, "quality gate not met")                                                \
    X(IO, 4, "I/O error")                                                             \
    X(NO_MEMORY, 4, "out of memory")                                                  \
    X(UNSUPPORTED, 5, "unsupported model feature")                                    \
    X(INTERNAL, 70, "internal error")

/** Every status a function of this library can return. */
typedef enum edgec_status {
#define EDGEC_X_ENUM(name, code, msg) EDGEC_STATUS_##name,
    EDGEC_STATUS_LIST(EDGEC_X_ENUM)
#undef EDGEC_X_ENUM
    EDGEC_STATUS_COUNT
} edgec_status;

/** Returns the status's symbolic name, e.g. "INVALID_MODEL". */
const char *edgec_status_name(edgec_status s);

/** Returns the status's default one-line description. */
const char *edgec_status_message(edgec_status s);

/** Returns the process exit code the CLI uses for this status. */
int edgec_status_exit_code(edgec_status s);

/** Returns the detailed message of the last failure in this thread (never NULL).
 * It names the file, tensor or node and says why; empty after success. */
const char *edgec_error_message(void);

#ifdef __cplusplus
}
#endif
#endif
