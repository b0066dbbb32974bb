//! Devices against a real `doorstep-server` on loopback: enrollment, batched sync,
//! conflicts, idempotency, scopes, the sync log, the supervisor's console, and bad input.

mod sync {
    mod attachments;
    mod attacks;
    mod bad_input;
    mod console;
    mod convergence;
    mod devices;
    mod during_sync;
    mod fleet;
    mod keys;
    mod log_and_faults;
    mod members;
    mod merkle_log;
    mod per_record;
    mod raw;
    mod restore;
    mod skew;
    mod tls;
    mod tokens;
    mod trust;
    mod two_servers;
    mod visits;
}
