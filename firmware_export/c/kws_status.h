/* Status codes returned by every kws C function (0 = success, negative = error). */
#ifndef KWS_STATUS_H
#define KWS_STATUS_H

#define KWS_OK 0
#define KWS_ERR_NULL (-1)     /* a required pointer argument is NULL */
#define KWS_ERR_LENGTH (-2)   /* a length or count argument is negative or out of range */
#define KWS_ERR_BUFFER (-3)   /* the caller's output buffer is too small for the result */
#define KWS_ERR_STATE (-4)    /* the context was not initialised with kws_init / *_reset */

#endif /* KWS_STATUS_H */
