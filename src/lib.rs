//! llmscope: a recording proxy and terminal inspector that sits between a coding agent and its
//! LLM endpoint.

pub mod agents;
pub mod analysis;
pub mod ca;
pub mod capture;
pub mod cli;
pub mod demo;
pub mod export;
pub mod fix;
pub mod give_way;
pub mod llm;
pub mod mock;
pub mod otlp;
pub mod proxy;
pub mod recorder;
pub mod remote;
pub mod store;
pub mod tui;
