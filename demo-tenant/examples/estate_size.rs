fn main() {
    let devices: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let t = std::time::Instant::now();
    let e = defender_tvm_demo::Estate::generate(
        defender_tvm_demo::DEFAULT_SEED,
        defender_tvm_demo::Size {
            devices,
            software: 150,
        },
    );
    let rows: usize = e.installations.iter().map(|i| i.exposed.len()).sum();
    println!(
        "devices {} installations {} rows {} in {:?}",
        devices,
        e.installations.len(),
        rows,
        t.elapsed()
    );
}
