//! The columns the store's queries read an exchange from, and in which order.

/// Columns shared by summaries and full rows, in table order so a summary never reaches the
/// bodies stored after them. Read from [`FROM_EXCHANGES`]: each exchange with its usage and
/// links joined (one lookup per row for both tables, where a subquery per column took six;
/// it halves the time `open` takes to list a session of 100,000 exchanges).
macro_rules! summary_base {
    () => {
        "e.id, e.started_at_ms, e.method, e.uri, e.dialect, e.model,
    e.status, e.state, e.failure_class, e.failure_message, e.first_byte_ms, e.duration_ms,
    e.request_body_len, e.response_body_captured, e.response_body_len, e.origin, e.parent_id,
    e.hold_outcome, e.rewrite_applied, e.original_request_len,
    u.input_tokens, u.output_tokens, l.repeats_id, l.beneath_id,
    u.cache_read_tokens, u.cache_write_tokens"
    };
}
/// The host forward mode keeps, found in the request's headers; read with [`SUMMARY_COLUMNS`].
/// Only forward mode keeps a `host` pair, and searching every row's header text for one costs
/// about 0.8 µs a row, so a list of a session without hosts selects [`SUMMARY_COLUMNS_NO_HOST`] instead.
macro_rules! host_column {
    () => {
        "CASE WHEN instr(e.request_headers, '[\"host\",') > 0 THEN
        (SELECT json_extract(h.value, '$[1]') FROM json_each(e.request_headers) h
          WHERE json_extract(h.value, '$[0]') = 'host' LIMIT 1)
    END"
    };
}
pub(super) const SUMMARY_COLUMNS: &str = concat!(summary_base!(), ", ", host_column!());
/// [`SUMMARY_COLUMNS`] for a session whose exchanges keep no host.
pub(super) const SUMMARY_COLUMNS_NO_HOST: &str = concat!(summary_base!(), ", NULL");
/// The rows [`SUMMARY_COLUMNS`] and [`BODY_COLUMNS`] are read from; `e` is the exchange.
pub(super) const FROM_EXCHANGES: &str = "FROM exchanges e
    LEFT JOIN usage u ON u.session_id = e.session_id AND u.id = e.id
    LEFT JOIN links l ON l.session_id = e.session_id AND l.id = e.id";
/// How many columns [`SUMMARY_COLUMNS`] selects: the body columns come after them.
pub(super) const SUMMARY_LEN: usize = 27;

pub(super) const BODY_COLUMNS: &str =
    "e.request_headers, e.response_headers, e.request_body_codec, e.response_body_codec,
    e.original_request_headers, e.original_request_codec, e.request_body, e.response_body,
    e.original_request_body, e.request_body_ref, e.request_body_captured";
