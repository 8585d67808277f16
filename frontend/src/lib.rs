//! The WASM entry point: hydrates the islands of the server-rendered page
//! (`#[island]` components in the `app` crate). Kept tiny.
#![recursion_limit = "256"]

mod forms;

// Links the app's islands into the bundle.
#[allow(unused_imports)]
use app::*;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    forms::keep_typed_values();
}
