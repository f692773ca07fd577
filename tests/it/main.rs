//! The integration tests, one binary (one link of httpmock, hyper and the crate), a module per
//! concern. Every server binds 127.0.0.1 on port 0; nothing reaches the network or needs
//! credentials.

mod auth;
mod client_config;
mod common;
mod demo_tenant;
mod deploy_plan;
mod errors;
mod export_demo;
mod export_example;
mod exports;
mod flaky;
mod limits_and_timeouts;
mod main_job;
mod missing_kbs;
mod observed_shapes;
mod paging;
mod per_call_state;
mod report;
mod report_export;
mod retries;
mod secrets_in_traces;
mod sign_in_retries;
mod software;
mod software_ids;
mod spec_examples;
mod storage;
mod tenants;
mod tenants_file;
mod transport_failures;
mod types_match_spec;
