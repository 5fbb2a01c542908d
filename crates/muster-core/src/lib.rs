//! muster-core
