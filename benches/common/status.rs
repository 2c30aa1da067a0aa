//! A process's memory figures from `/proc/<pid>/status`, read the same way by every
//! server benchmark that reports them.

/// A `/proc/<pid>/status` figure in kB (`VmHWM`: peak RSS, `VmRSS`: now, `RssAnon`:
/// anonymous memory); `None` once the process is gone.
pub fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
