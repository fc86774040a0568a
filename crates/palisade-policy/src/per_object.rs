//! A value computed once per object for all the rules of an engine that judge it: the scan
//! engine runs every rule on one object before the next, so a thread keeps the last object's.

use std::cell::RefCell;
use std::sync::Arc;

use palisade_core::{Object, ObjectRef};

/// The last object a thread computed the value for, with the value. Holding the object's
/// reference keeps it from being freed, so no other object can be mistaken for it.
pub(crate) struct LastObject<T>(RefCell<Option<(Arc<ObjectRef>, T)>>);

impl<T: Clone> LastObject<T> {
    pub(crate) const fn new() -> Self {
        LastObject(RefCell::new(None))
    }

    /// The value for `object`: the kept one when it is the last object, else `make`'s.
    pub(crate) fn get_or(&self, object: &Object, make: impl FnOnce() -> T) -> T {
        let reference = object.reference();
        let mut last = self.0.borrow_mut();
        if let Some((_, value)) = last.as_ref().filter(|(cached, _)| Arc::ptr_eq(cached, &reference)) {
            return value.clone();
        }
        let value = make();
        *last = Some((reference, value.clone()));
        value
    }
}
