//! The device side of the ADB transport protocol.
