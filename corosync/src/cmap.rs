//! The cmap library (to be written).
