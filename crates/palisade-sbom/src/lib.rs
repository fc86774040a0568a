//! Software bills of materials from an inventory.
