use std::time::{Duration, UNIX_EPOCH};
use defender_tvm_demo::timeline::{Timeline, TimelineOptions};
fn main() {
    let end = UNIX_EPOCH + Duration::from_secs(1_792_000_000);
    let tl = Timeline::generate(TimelineOptions::default().devices(1000).days(120).end(end).seed(3));
    let truth = tl.truth();
    for s in (0..120).step_by(10) {
        let (mut patch, mut never, mut np, mut nn) = (0, 0, 0, 0);
        for d in truth.devices.iter().filter(|d| d.is_present_at(s)) { if d.patches { np += 1 } else { nn += 1 } }
        for e in truth.open_at(s) { if truth.devices[e.device].patches { patch += 1 } else { never += 1 } }
        let rows = tl.rows(s).count();
        println!("s{s}: rows/device {:.1}; open/patching device {:.1}; open/never {:.1}", rows as f64 / (np+nn) as f64, patch as f64 / np as f64, never as f64 / nn.max(1) as f64);
    }
}
