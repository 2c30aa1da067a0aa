//! Addresses made anonymous before anything keeps them: IPv4 cut to its /24 and IPv6
//! to its /48 by default, the network a visitor shares with many others; and a log
//! line as it may be journaled: every address in it masked, its User-Agent removed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The prefix lengths addresses are cut to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mask {
    pub v4_bits: u8,
    pub v6_bits: u8,
}

impl Default for Mask {
    fn default() -> Self {
        Mask {
            v4_bits: 24,
            v6_bits: 48,
        }
    }
}

impl Mask {
    /// The address with every bit past the prefix cleared.
    pub fn apply(self, address: IpAddr) -> IpAddr {
        match address {
            IpAddr::V4(v4) => {
                let keep = u32::MAX
                    .checked_shl(32 - u32::from(self.v4_bits.min(32)))
                    .unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(v4) & keep))
            }
            IpAddr::V6(v6) => {
                let keep = u128::MAX
                    .checked_shl(128 - u32::from(self.v6_bits.min(128)))
                    .unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(v6) & keep))
            }
        }
    }
}

/// The finest prefixes allowed: finer would keep a household's or a person's address.
pub const FINEST_V4: u8 = 24;
pub const FINEST_V6: u8 = 48;

impl Mask {
    /// A mask no finer than [`FINEST_V4`] / [`FINEST_V6`].
    pub fn new(v4_bits: u8, v6_bits: u8) -> Option<Mask> {
        (v4_bits <= FINEST_V4 && v6_bits <= FINEST_V6).then_some(Mask { v4_bits, v6_bits })
    }

    /// `line` with every IPv4 or IPv6 address in it masked (not only the client's: a
    /// custom format may log `X-Forwarded-For`), and `user_agent`, the logged text, cut
    /// out. `None` when the User-Agent cannot be found to cut out.
    pub fn line(self, line: &str, user_agent: Option<&str>) -> Option<String> {
        let line = match user_agent {
            Some(agent) if !agent.is_empty() => {
                if !line.contains(agent) {
                    return None;
                }
                line.replace(agent, "-")
            }
            _ => line.to_owned(),
        };
        Some(self.addresses(&line))
    }

    fn addresses(self, text: &str) -> String {
        let is_part = |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':';
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find(is_part) {
            out.push_str(&rest[..start]);
            let run = &rest[start..];
            let end = run.find(|c: char| !is_part(c)).unwrap_or(run.len());
            let token = &run[..end];
            match longest_address(token) {
                Some((from, to, address)) => {
                    out.push_str(&token[..from]);
                    out.push_str(&self.apply(address).to_string());
                    out.push_str(&token[to..]);
                }
                None => out.push_str(token),
            }
            rest = &run[end..];
        }
        out.push_str(rest);
        out
    }
}

/// The address inside a run of hex digits, dots and colons (`1.2.3.4:443`, `[::1]`'s
/// inside, `::ffff:1.2.3.4`), as byte offsets and the parsed address.
fn longest_address(token: &str) -> Option<(usize, usize, IpAddr)> {
    if let Ok(address) = token.parse::<IpAddr>() {
        return Some((0, token.len(), address));
    }
    // `host:port` and trailing dots or colons: try the prefixes, longest first.
    let mut ends: Vec<usize> = token.match_indices([':', '.']).map(|(i, _)| i).collect();
    ends.reverse();
    ends.into_iter()
        .find_map(|end| token[..end].parse::<IpAddr>().ok().map(|a| (0, end, a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_no_address_and_no_user_agent() {
        let mask = Mask::default();
        let line = r#"203.0.113.77 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 5 "-" "Mozilla/5.0 (X11)" 198.51.100.4, 2001:db8:abcd:12::1 [2001:db8::2]:443 10.1.2.3:8080"#;
        let kept = mask.line(line, Some("Mozilla/5.0 (X11)")).unwrap();
        assert_eq!(
            kept,
            r#"203.0.113.0 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 5 "-" "-" 198.51.100.0, 2001:db8:abcd:: [2001:db8::]:443 10.1.2.0:8080"#
        );
        assert_eq!(mask.line("no agent here", Some("Mozilla")), None);
        assert_eq!(
            mask.line("cafe 12:30 face", None).unwrap(),
            "cafe 12:30 face"
        );
        assert!(Mask::new(25, 48).is_none() && Mask::new(24, 49).is_none());
    }

    #[test]
    fn addresses_are_cut_to_their_prefix() {
        let mask = Mask::default();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(mask.apply(ip("203.0.113.77")), ip("203.0.113.0"));
        assert_eq!(mask.apply(ip("2001:db8:abcd:12::1")), ip("2001:db8:abcd::"));
        let none = Mask {
            v4_bits: 0,
            v6_bits: 0,
        };
        assert_eq!(none.apply(ip("203.0.113.77")), ip("0.0.0.0"));
        let all = Mask {
            v4_bits: 32,
            v6_bits: 128,
        };
        assert_eq!(all.apply(ip("203.0.113.77")), ip("203.0.113.77"));
    }
}
