//! The server (`src`) each key is bound to, kept in memory: a binding is written once
//! by `reckon keys add --src` and never changes, so a sender posting one small event
//! per request costs one store read (is the key live?) instead of two.

use std::collections::HashMap;
use std::sync::Mutex;

/// Bindings kept at most; a full map is emptied and refilled from the store.
const CAPACITY: usize = 16_384;

#[derive(Default)]
pub struct KeyBindings {
    bound: Mutex<HashMap<String, Option<String>>>,
}

impl KeyBindings {
    /// What is known of `key_id`'s binding: `Some(None)` for a key bound to no server.
    pub fn get(&self, key_id: &str) -> Option<Option<String>> {
        self.bound
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key_id)
            .cloned()
    }

    pub fn put(&self, key_id: &str, src: Option<String>) {
        let mut bound = self.bound.lock().unwrap_or_else(|p| p.into_inner());
        if bound.len() >= CAPACITY {
            bound.clear();
        }
        bound.insert(key_id.to_owned(), src);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_are_remembered_and_a_full_map_makes_room() {
        let bindings = KeyBindings::default();
        assert_eq!(bindings.get("a"), None);
        bindings.put("a", Some("cpo".into()));
        bindings.put("b", None);
        assert_eq!(bindings.get("a"), Some(Some("cpo".into())));
        assert_eq!(bindings.get("b"), Some(None));
        for i in 0..=CAPACITY {
            bindings.put(&i.to_string(), None);
        }
        assert_eq!(bindings.get(&CAPACITY.to_string()), Some(None));
        assert!(bindings.bound.lock().unwrap().len() <= CAPACITY);
    }
}
