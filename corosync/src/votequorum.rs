//! The votequorum library (to be written).
