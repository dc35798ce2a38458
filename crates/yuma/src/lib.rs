//! The pure Yuma consensus epoch, bit-exact with the reference chain.
