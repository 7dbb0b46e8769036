//! Many phones in one process, one TCP listener each.
