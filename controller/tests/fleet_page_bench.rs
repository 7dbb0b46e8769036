//! The fleet-page benchmark (`benches/fleet_page.rs`) at toy size, so the harness cannot
//! rot: 200 phones, 10 clients, 200 requests over the four pages; every answer must be a
//! 200 fleet page.
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
    // Clients take the next page from a shared counter, so each page gets about a
    // quarter, not exactly: every page must have been asked for and answered.
    assert_eq!(report.by_path.len(), 4, "{report:?}");
    assert!(report.by_path.iter().all(|f| f.count > 0), "{report:?}");
    assert_eq!(
        report.by_path.iter().map(|f| f.count).sum::<usize>(),
        200,
        "{report:?}"
    );
}
