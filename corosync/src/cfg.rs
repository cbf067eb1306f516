//! The cfg library (to be written).
