//! `host:port` as a URL authority or a socket address wants it: an IPv6 host in brackets.

pub fn authority(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ipv6_hosts_get_brackets() {
        assert_eq!(super::authority("::1", 443), "[::1]:443");
        assert_eq!(super::authority("[::1]", 443), "[::1]:443");
        assert_eq!(
            super::authority("api.openai.com", 443),
            "api.openai.com:443"
        );
    }
}
