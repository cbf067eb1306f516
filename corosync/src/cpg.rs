//! The cpg library (to be written).
