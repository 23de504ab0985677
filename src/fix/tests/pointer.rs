use serde_json::json;

use crate::fix::pointer::{remove, set};
use crate::fix::{FixError, FixOutcome};

#[test]
fn setting_a_field_creates_missing_object_parents() {
    let mut body = json!({"model": "m"});
    let outcome = set(&mut body, "/metadata/user/id", json!("u1"));
    assert_eq!(
        outcome,
        Ok(FixOutcome::changed("set /metadata/user/id to \"u1\""))
    );
    assert_eq!(
        body,
        json!({"model": "m", "metadata": {"user": {"id": "u1"}}})
    );
    let again = set(&mut body, "/metadata/user/id", json!("u1"));
    assert_eq!(
        again,
        Ok(FixOutcome::unchanged("/metadata/user/id is already \"u1\""))
    );
}

#[test]
fn setting_a_field_keeps_its_place_among_the_others() {
    let mut body = json!({"model": "a", "messages": [], "stream": true});
    set(&mut body, "/model", json!("b")).expect("valid pointer");
    assert_eq!(
        body.to_string(),
        r#"{"model":"b","messages":[],"stream":true}"#
    );
    set(&mut body, "/temperature", json!(0.2)).expect("valid pointer");
    assert_eq!(
        body.to_string(),
        r#"{"model":"b","messages":[],"stream":true,"temperature":0.2}"#
    );
}

#[test]
fn array_indices_replace_and_dash_appends() {
    let mut body = json!({"messages": [{"role": "user", "content": "a"}]});
    set(&mut body, "/messages/0/content", json!("b")).expect("valid pointer");
    assert_eq!(body["messages"][0]["content"], "b");
    let outcome = set(
        &mut body,
        "/messages/-",
        json!({"role": "user", "content": "c"}),
    );
    assert!(outcome.is_ok_and(|o| o.changed));
    set(
        &mut body,
        "/messages/2",
        json!({"role": "user", "content": "d"}),
    )
    .expect("valid pointer");
    assert_eq!(body["messages"].as_array().map(Vec::len), Some(3));
    let beyond = set(&mut body, "/messages/7", json!(1)).expect("valid pointer");
    assert_eq!(
        beyond,
        FixOutcome::unchanged("/messages/7: the array has no element `7`")
    );
    let leading_zero = set(&mut body, "/messages/01/content", json!(1)).expect("valid pointer");
    assert!(!leading_zero.changed);
}

#[test]
fn a_scalar_on_the_way_is_not_overwritten() {
    let mut body = json!({"model": "m"});
    let outcome = set(&mut body, "/model/name", json!("x")).expect("valid pointer");
    assert!(!outcome.changed);
    assert_eq!(body, json!({"model": "m"}));
}

#[test]
fn escaped_steps_name_keys_with_slashes_and_tildes() {
    let mut body = json!({});
    set(&mut body, "/a~1b/c~0d", json!(1)).expect("valid pointer");
    assert_eq!(body, json!({"a/b": {"c~d": 1}}));
    assert!(remove(&mut body, "/a~1b/c~0d").is_ok_and(|o| o.changed));
    assert_eq!(body, json!({"a/b": {}}));
}

#[test]
fn malformed_pointers_are_errors() {
    let mut body = json!({});
    assert!(matches!(
        set(&mut body, "model", json!(1)),
        Err(FixError::InvalidPointer { .. })
    ));
    assert!(matches!(
        remove(&mut body, "/a~2"),
        Err(FixError::InvalidPointer { .. })
    ));
    assert!(set(&mut body, "", json!(1)).is_err());
}

#[test]
fn removing_shifts_array_elements_and_keeps_key_order() {
    let mut body =
        json!({"model": "m", "tools": [{"name": "a"}, {"name": "b"}], "stream": true, "n": 1});
    assert_eq!(
        remove(&mut body, "/tools/0"),
        Ok(FixOutcome::changed("removed /tools/0"))
    );
    assert_eq!(body["tools"], json!([{"name": "b"}]));
    remove(&mut body, "/model").expect("valid pointer");
    assert_eq!(
        body.to_string(),
        r#"{"tools":[{"name":"b"}],"stream":true,"n":1}"#
    );
    assert_eq!(
        remove(&mut body, "/metadata/x"),
        Ok(FixOutcome::unchanged("nothing at /metadata/x"))
    );
    assert_eq!(
        remove(&mut body, "/tools/5"),
        Ok(FixOutcome::unchanged("nothing at /tools/5"))
    );
}
