//! Quick fixes against real-world 400s, over loopback: a request with a defect goes through
//! the recording proxy to the mock's validating upstream (`x-mock-validate`), which answers
//! with the message a real provider or gateway sends for that defect; the first fix llmscope
//! offers for that message is applied and the request sent again, and must get a 200.
//!
//! The corpus is in `quick_fixes/corpus.rs`, each case naming where its wording comes from;
//! `quick_fixes/absent.rs` checks that nothing is offered for what a request does not hold.

#[path = "quick_fixes/absent.rs"]
mod absent;
mod common;
#[path = "quick_fixes/corpus.rs"]
mod corpus;

use llmscope::capture::HeaderList;
use llmscope::fix::{apply_fix, suggest_fixes, EditableRequest, FixContext, QuickFix};
use llmscope::llm::{diagnose, error_object_message, Dialect};
use llmscope::mock::{LIMIT_HEADER, VALIDATE_HEADER};
use serde_json::Value;

use common::{client, Harness};

/// One real-world failure: the defect the mock checks for, a request that has it, and the
/// public place its wording was collected from.
pub struct Case {
    pub source: &'static str,
    pub check: &'static str,
    pub dialect: Dialect,
    pub body: Value,
    /// The limit (context or output tokens) the upstream holds the request to.
    pub limit: Option<u64>,
    pub last_good_model: Option<&'static str>,
}

/// What became of a case.
pub struct Outcome {
    pub message: String,
    pub first_fix: QuickFix,
    pub status_after: u16,
}

fn path(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Anthropic => "/v1/messages",
        Dialect::OpenAiResponses => "/v1/responses",
        Dialect::Gemini => "/v1beta/models/mock-validate:generateContent",
        Dialect::OpenAiChat | Dialect::Unknown => "/v1/chat/completions",
    }
}

fn headers(case: &Case) -> HeaderList {
    let mut headers = HeaderList::from([
        ("content-type", "application/json"),
        (VALIDATE_HEADER, case.check),
    ]);
    if let Some(limit) = case.limit {
        headers.push(LIMIT_HEADER, &limit.to_string());
    }
    // That case is about the header's absence.
    if case.dialect == Dialect::Anthropic && case.check != "anthropic-version-required" {
        headers.push("anthropic-version", "2023-06-01");
    }
    headers
}

async fn send(h: &Harness, dialect: Dialect, headers: &HeaderList, body: &[u8]) -> (u16, Vec<u8>) {
    let mut request = client().post(h.url(path(dialect))).body(body.to_vec());
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let reply = request.send().await.expect("the proxy answers");
    let status = reply.status().as_u16();
    let bytes = reply.bytes().await.expect("a whole body");
    (status, bytes.to_vec())
}

/// Sends the case, fixes it with the first offered fix, resends it.
pub async fn run(h: &Harness, case: &Case) -> Result<Outcome, String> {
    let headers = headers(case);
    let body = serde_json::to_vec(&case.body).map_err(|e| e.to_string())?;
    let (status, reply) = send(h, case.dialect, &headers, &body).await;
    if status != 400 {
        return Err(format!("the defective request got {status}, not 400"));
    }
    let message = error_object_message(&reply).ok_or("the 400 carries no error message")?;
    let diagnosis =
        diagnose(Some(status), &message).ok_or_else(|| format!("not recognised: {message}"))?;
    let context = FixContext {
        last_good_model: case.last_good_model.map(str::to_string),
        upstream_message: Some(message.clone()),
    };
    let fixes = suggest_fixes(&diagnosis.kind, case.dialect, &body, &context);
    let first_fix = fixes
        .first()
        .cloned()
        .ok_or_else(|| format!("no fix offered for {:?}: {message}", diagnosis.kind))?;
    let mut request = EditableRequest {
        headers: headers.clone(),
        body: case.body.clone(),
    };
    apply_fix(&first_fix, case.dialect, &mut request).map_err(|e| e.to_string())?;
    let fixed = serde_json::to_vec(&request.body).map_err(|e| e.to_string())?;
    let (status_after, after) = send(h, case.dialect, &request.headers, &fixed).await;
    if status_after != 200 {
        return Err(format!(
            "after `{first_fix}` the upstream still says {status_after}: {}",
            String::from_utf8_lossy(&after)
        ));
    }
    Ok(Outcome {
        message,
        first_fix,
        status_after,
    })
}

/// Every case of the corpus, in one proxy session; prints the table the report quotes and
/// fails naming every case whose first fix did not pass.
#[tokio::test]
async fn the_first_fix_offered_makes_every_real_world_400_pass() {
    let h = Harness::start().await;
    let cases = corpus::cases();
    let mut failures = Vec::new();
    for case in &cases {
        match run(&h, case).await {
            Ok(outcome) => {
                assert_eq!(outcome.status_after, 200);
                let lossless = if outcome.first_fix.is_lossless() {
                    "lossless"
                } else {
                    "lossy"
                };
                eprintln!(
                    "pass {:?} {} [{}]: `{}` ({lossless}) for: {}",
                    case.dialect, case.check, case.source, outcome.first_fix, outcome.message
                );
            }
            Err(why) => failures.push(format!("{} [{}]: {why}", case.check, case.source)),
        }
    }
    eprintln!(
        "{} of {} passed with the first fix",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let dialects = [
        Dialect::OpenAiChat,
        Dialect::OpenAiResponses,
        Dialect::Anthropic,
    ];
    for dialect in dialects {
        assert!(
            cases.iter().filter(|c| c.dialect == dialect).count() >= 4,
            "{dialect:?}"
        );
    }
    assert!(cases.len() >= 15);
}

/// Every check the validating upstream knows is exercised by the corpus.
#[test]
fn every_check_of_the_validating_upstream_has_a_real_world_case() {
    let cases = corpus::cases();
    for name in llmscope::mock::validate_case_names() {
        assert!(cases.iter().any(|case| case.check == name), "{name}");
    }
}

/// The mock really validates: a clean request gets its 200 straight away.
#[tokio::test]
async fn a_request_without_the_defect_passes_the_validating_upstream() {
    let h = Harness::start().await;
    for case in corpus::clean_cases() {
        let body = serde_json::to_vec(&case.body).expect("JSON");
        let (status, reply) = send(&h, case.dialect, &headers(&case), &body).await;
        assert_eq!(
            status,
            200,
            "{}: {}",
            case.check,
            String::from_utf8_lossy(&reply)
        );
    }
}
