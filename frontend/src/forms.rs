//! Keeps what a person typed into a form across a refused post.
//!
//! The pages are server-rendered and their forms are plain posts: a refusal
//! comes back as a redirect to the same page, which the server renders
//! afresh, with empty fields. Just before a post leaves, this saves the
//! form's typed fields in the tab's `sessionStorage`; when the next page is
//! the same page without the server's success marker (`app::FORM_OK`), it
//! puts them back, unless the person has already started typing into the
//! form again (the WASM can load after a quick hand). Passwords, one-time
//! codes and hidden fields are never saved, and the entry is removed as
//! soon as the next page has read it.

use serde::{Deserialize, Serialize};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Event, HtmlFormElement, HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement, Storage};

const KEY: &str = "peerportal.form";

#[derive(Serialize, Deserialize)]
struct Saved {
    /// The page the form was posted from.
    page: String,
    /// The form's id, or its action.
    form: String,
    /// (name, value); a checkbox's value is whether it was ticked.
    fields: Vec<(String, String)>,
}

pub fn keep_typed_values() {
    let Some(window) = web_sys::window() else { return };
    let (Some(document), Ok(Some(storage))) = (window.document(), window.session_storage()) else { return };
    let location = window.location();
    let page = location.pathname().unwrap_or_default();
    let succeeded = location.search().unwrap_or_default().contains(&format!("{}=", app::FORM_OK));
    if let Ok(Some(saved)) = storage.get_item(KEY) {
        let _ = storage.remove_item(KEY);
        match serde_json::from_str::<Saved>(&saved) {
            Ok(saved) if saved.page == page && !succeeded => restore(&document, &saved),
            _ => {}
        }
    }
    let on_submit = Closure::<dyn Fn(Event)>::new(move |ev: Event| {
        let Some(form) = ev.target().and_then(|t| t.dyn_into::<HtmlFormElement>().ok()) else { return };
        if form.get_attribute("method").is_some_and(|m| m.eq_ignore_ascii_case("post")) {
            save(&storage, &page, &form);
        }
    });
    let _ = document.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
    // Lives as long as the page.
    on_submit.forget();
}

/// Attributes, not properties: a form's `id` or `method` property is its
/// field of that name when it has one (the customer form posts `id`), and
/// that is not a string.
fn form_key(form: &HtmlFormElement) -> String {
    form.get_attribute("id").filter(|id| !id.is_empty()).or_else(|| form.get_attribute("action")).unwrap_or_default()
}

/// A field worth keeping: what a person typed or ticked.
enum Field {
    Text(String),
    Checkbox(bool),
}

fn field(el: &Element) -> Option<(String, Field)> {
    // A second factor's code or recovery code: a secret, and good once.
    if el.get_attribute("autocomplete").is_some_and(|a| a == "one-time-code") {
        return None;
    }
    if let Some(input) = el.dyn_ref::<HtmlInputElement>() {
        let value = match input.type_().as_str() {
            "text" | "email" | "search" | "number" | "url" | "tel" | "date" => Field::Text(input.value()),
            "checkbox" => Field::Checkbox(input.checked()),
            // Never passwords, hidden fields (the server's own), files or buttons.
            _ => return None,
        };
        return Some((input.name(), value));
    }
    if let Some(area) = el.dyn_ref::<HtmlTextAreaElement>() {
        return Some((area.name(), Field::Text(area.value())));
    }
    el.dyn_ref::<HtmlSelectElement>().map(|select| (select.name(), Field::Text(select.value())))
}

fn save(storage: &Storage, page: &str, form: &HtmlFormElement) {
    let elements = form.elements();
    let fields = (0..elements.length())
        .filter_map(|i| elements.item(i))
        .filter_map(|el| field(&el))
        .filter(|(name, _)| !name.is_empty())
        .map(|(name, value)| match value {
            Field::Text(text) => (name, text),
            Field::Checkbox(on) => (name, on.to_string()),
        })
        .collect();
    let saved = Saved { page: page.to_owned(), form: form_key(form), fields };
    if let Ok(json) = serde_json::to_string(&saved) {
        let _ = storage.set_item(KEY, &json);
    }
}

fn restore(document: &Document, saved: &Saved) {
    let forms = document.forms();
    let Some(form) = (0..forms.length())
        .filter_map(|i| forms.item(i))
        .filter_map(|f| f.dyn_into::<HtmlFormElement>().ok())
        .find(|f| form_key(f) == saved.form)
    else {
        return;
    };
    if !untouched(&form) {
        return;
    }
    let elements = form.elements();
    for el in (0..elements.length()).filter_map(|i| elements.item(i)) {
        let Some((name, _)) = field(&el) else { continue };
        let Some((_, value)) = saved.fields.iter().find(|(n, _)| *n == name) else { continue };
        if let Some(input) = el.dyn_ref::<HtmlInputElement>() {
            if input.type_() == "checkbox" {
                input.set_checked(value == "true");
            } else {
                input.set_value(value);
            }
        } else if let Some(area) = el.dyn_ref::<HtmlTextAreaElement>() {
            area.set_value(value);
        } else if let Some(select) = el.dyn_ref::<HtmlSelectElement>() {
            select.set_value(value);
        }
    }
}

/// Whether every field of `form` still holds what the page was rendered
/// with: what the person typed since the page came back is theirs to keep.
fn untouched(form: &HtmlFormElement) -> bool {
    let elements = form.elements();
    (0..elements.length()).filter_map(|i| elements.item(i)).all(|el| {
        if let Some(input) = el.dyn_ref::<HtmlInputElement>() {
            input.value() == input.default_value() && input.checked() == input.default_checked()
        } else if let Some(area) = el.dyn_ref::<HtmlTextAreaElement>() {
            area.default_value().is_ok_and(|d| d == area.value())
        } else {
            true
        }
    })
}
