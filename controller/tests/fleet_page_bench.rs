//! The fleet-page benchmark (`benches/fleet_page.rs`) at toy size, so the harness cannot
//! rot: 200 phones, 10 clients, 200 requests; every answer must be a 200 fleet page.
//! Nothing is asserted about time here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../benches/fleet_page.rs"]
#[allow(dead_code)]
mod bench;

#[test]
fn the_fleet_page_benchmark_runs_at_toy_size() {
    let plan = bench::Plan {
        phones: 200,
        clients: 10,
        requests: 200,
        page_cache: true,
        session_cache: true,
    };
    let report = bench::run(plan, false);
    bench::print(&plan, &report);
    assert_eq!(report.all.count, 200);
    assert!(report.by_path.iter().all(|f| f.count == 50), "{report:?}");
}
