//! The quorum library (to be written).
