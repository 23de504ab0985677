//! The scripted agent: sends the demo's requests through the proxy one after another, the way
//! a coding agent would, and reads every reply to its end.

use std::time::Duration;

use super::{DemoStep, Story};

/// What the agent saw for one step.
#[derive(Debug, Clone)]
pub struct StepOutcome {
    pub label: String,
    pub story: Story,
    /// `Err` holds the client's error when no HTTP reply came.
    pub status: Result<u16, String>,
}

/// Plays `steps` against `base_url` with `pace` between them.
pub async fn run_script(base_url: &str, steps: &[DemoStep], pace: Duration) -> Vec<StepOutcome> {
    crate::proxy::install_crypto_provider();
    let client = match reqwest::Client::builder()
        .no_proxy()
        // Longer than the demo's hold: a held agent waits for the fix like a real one would.
        .timeout(Duration::from_secs(300))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            return steps
                .iter()
                .map(|step| StepOutcome {
                    label: step.label.clone(),
                    story: step.story,
                    status: Err(error.to_string()),
                })
                .collect();
        }
    };
    let mut outcomes = Vec::with_capacity(steps.len());
    for (n, step) in steps.iter().enumerate() {
        if n > 0 {
            tokio::time::sleep(pace).await;
        }
        outcomes.push(play(&client, base_url, step).await);
    }
    outcomes
}

async fn play(client: &reqwest::Client, base_url: &str, step: &DemoStep) -> StepOutcome {
    let mut request = client
        .request(step.method.clone(), format!("{base_url}{}", step.path))
        .body(step.body.clone());
    for (name, value) in &step.headers {
        request = request.header(name, value);
    }
    let status = match request.send().await {
        Ok(reply) => {
            let status = reply.status().as_u16();
            // Read to the end like an agent does, so the stream completes.
            match reply.bytes().await {
                Ok(_) => Ok(status),
                Err(error) => Err(format!("{status}, then the body broke: {error}")),
            }
        }
        Err(error) => Err(error.to_string()),
    };
    StepOutcome {
        label: step.label.clone(),
        story: step.story,
        status,
    }
}
