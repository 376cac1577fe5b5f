//! Where a Snowflake connection goes: the account identifier a user typed or pasted, and the
//! host it implies (or the `base_url` that overrides it).

use crate::error::{ConnectorError, Result};
use url::Url;

/// The account as Snowflake's login expects it, and the API host when it is not
/// `https://<account>.snowflakecomputing.com`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub account: String,
    pub base_url: Option<Url>,
}

impl Target {
    /// The host every request goes to, for messages.
    pub fn host(&self) -> String {
        match &self.base_url {
            Some(url) => url.as_str().trim_end_matches('/').to_string(),
            None => format!("https://{}.snowflakecomputing.com", self.account),
        }
    }
}

const ACCOUNT_HELP: &str = "use the account identifier from your Snowflake URL, e.g. \
                            xy12345.eu-central-1, myorg-myaccount, or paste the whole \
                            https://....snowflakecomputing.com address";

/// Accepts `xy12345.eu-central-1[.aws]`, `orgname-account`, a pasted
/// `https://<account>[.privatelink].snowflakecomputing.com[/...]` address, or a Snowsight
/// `https://app.snowflake.com/<org>/<account>/...` address. `base_url`, when given, wins over the
/// host the account implies (private-link hosts, proxies, tests).
pub(super) fn resolve(account: &str, base_url: Option<&str>) -> Result<Target> {
    let (account, implied) = parse_account(account)?;
    let base_url = match base_url.map(str::trim).filter(|s| !s.is_empty()) {
        Some(url) => Some(parse_base_url(url)?),
        None => implied,
    };
    Ok(Target { account, base_url })
}

fn parse_account(input: &str) -> Result<(String, Option<Url>)> {
    let input = input.trim();
    if input.is_empty() {
        return Err(ConnectorError::invalid(format!("\"account\" is required: {ACCOUNT_HELP}")));
    }
    let looks_like_url = input.contains("://")
        || input.contains('/')
        || input.to_ascii_lowercase().contains(".snowflakecomputing.")
        || input.to_ascii_lowercase().starts_with("app.snowflake.com");
    if !looks_like_url {
        validate_identifier(input)?;
        // Snowflake hosts spell an account name's `_` as `-`; the driver would otherwise build a
        // host name with an underscore.
        let implied = input
            .contains('_')
            .then(|| url_for_host(&format!("{}.snowflakecomputing.com", input.replace('_', "-"))))
            .transpose()?;
        return Ok((input.to_string(), implied));
    }
    let with_scheme = if input.contains("://") { input.to_string() } else { format!("https://{input}") };
    let url = Url::parse(&with_scheme).map_err(|e| {
        ConnectorError::invalid(format!(
            "\"account\" looks like an address but is not one ({e}): {ACCOUNT_HELP}"
        ))
    })?;
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    if host == "app.snowflake.com" {
        let mut segments =
            url.path_segments().into_iter().flatten().filter(|s| !s.is_empty() && !s.starts_with('#'));
        return match (segments.next(), segments.next()) {
            (Some(org), Some(name)) => {
                let account = format!("{org}-{name}");
                validate_identifier(&account)?;
                Ok((account, None))
            }
            _ => Err(ConnectorError::invalid(format!(
                "this Snowsight address has no organization and account in it: {ACCOUNT_HELP}"
            ))),
        };
    }
    for domain in [".snowflakecomputing.com", ".snowflakecomputing.cn"] {
        let Some(prefix) = host.strip_suffix(domain) else { continue };
        // Private-link and non-.com hosts must be used as they are; the account is what precedes them.
        let (account, private) = match prefix.strip_suffix(".privatelink") {
            Some(account) => (account, true),
            None => (prefix, false),
        };
        validate_identifier(account)?;
        let needs_host = private || domain != ".snowflakecomputing.com" || account.contains('_');
        let implied = needs_host.then(|| url_for_host(&host.replace('_', "-"))).transpose()?;
        return Ok((account.to_string(), implied));
    }
    Err(ConnectorError::invalid(format!(
        "{host} is not a Snowflake address (*.snowflakecomputing.com); {ACCOUNT_HELP}. \
         For a proxy or a private host, set \"base_url\" and keep \"account\" as the identifier"
    )))
}

fn url_for_host(host: &str) -> Result<Url> {
    Url::parse(&format!("https://{host}"))
        .map_err(|e| ConnectorError::invalid(format!("\"account\" does not make a valid host name ({e})")))
}

fn validate_identifier(account: &str) -> Result<()> {
    let ok = !account.is_empty()
        && account.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !account.starts_with(['.', '-'])
        && !account.ends_with(['.', '-']);
    if ok {
        Ok(())
    } else {
        Err(ConnectorError::invalid(format!(
            "\"{account}\" is not a Snowflake account identifier: {ACCOUNT_HELP}"
        )))
    }
}

/// `base_url`: scheme and host (and port) only. Plain http is refused except on this machine,
/// because the password or token would cross the network readable.
fn parse_base_url(input: &str) -> Result<Url> {
    let url =
        Url::parse(input).map_err(|e| ConnectorError::invalid(format!("\"base_url\" is not a URL ({e})")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(ConnectorError::invalid(
                "\"base_url\" must use https (plain http is only allowed to localhost)",
            ))
        }
        other => return Err(ConnectorError::invalid(format!("\"base_url\" must be https, not {other}"))),
    }
    if url.host().is_none() {
        return Err(ConnectorError::invalid("\"base_url\" has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConnectorError::invalid("\"base_url\" must not contain credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() || !matches!(url.path(), "" | "/") {
        return Err(ConnectorError::invalid(
            "\"base_url\" must be only scheme, host and port, e.g. https://xy12345.privatelink.snowflakecomputing.com",
        ));
    }
    Ok(url)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn target(account: &str) -> (String, Option<String>) {
        let t = resolve(account, None).unwrap();
        (t.account, t.base_url.map(|u| u.to_string()))
    }

    #[test]
    fn identifiers_as_typed() {
        assert_eq!(target("xy12345.eu-central-1"), ("xy12345.eu-central-1".into(), None));
        assert_eq!(target("  myorg-myaccount "), ("myorg-myaccount".into(), None));
        assert_eq!(target("xy12345.us-east-2.aws"), ("xy12345.us-east-2.aws".into(), None));
        assert_eq!(
            target("myorg-my_account"),
            ("myorg-my_account".into(), Some("https://myorg-my-account.snowflakecomputing.com/".into()))
        );
    }

    #[test]
    fn pasted_addresses() {
        assert_eq!(
            target("https://xy12345.eu-central-1.snowflakecomputing.com"),
            ("xy12345.eu-central-1".into(), None)
        );
        assert_eq!(
            target("https://MyOrg-MyAccount.snowflakecomputing.com/console#/worksheets"),
            ("myorg-myaccount".into(), None)
        );
        assert_eq!(
            target("xy12345.eu-central-1.snowflakecomputing.com/"),
            ("xy12345.eu-central-1".into(), None)
        );
        assert_eq!(
            target("https://xy12345.eu-central-1.privatelink.snowflakecomputing.com"),
            (
                "xy12345.eu-central-1".into(),
                Some("https://xy12345.eu-central-1.privatelink.snowflakecomputing.com/".into())
            )
        );
        assert_eq!(
            target("https://xy12345.cn-north-1.snowflakecomputing.cn"),
            ("xy12345.cn-north-1".into(), Some("https://xy12345.cn-north-1.snowflakecomputing.cn/".into()))
        );
        assert_eq!(
            target("https://app.snowflake.com/myorg/myaccount/#/data"),
            ("myorg-myaccount".into(), None)
        );
    }

    #[test]
    fn bad_accounts_are_invalid_input() {
        for bad in [
            "",
            "  ",
            "has space",
            "semi;colon",
            "https://example.com",
            "https://app.snowflake.com/",
            "-x",
            "a.",
        ] {
            let err = resolve(bad, None).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}: {err}");
        }
    }

    #[test]
    fn base_url_overrides_and_is_checked() {
        let t = resolve("fake", Some("http://127.0.0.1:8765")).unwrap();
        assert_eq!(t.base_url.unwrap().as_str(), "http://127.0.0.1:8765/");
        let t = resolve("xy12345", Some("https://xy12345.privatelink.snowflakecomputing.com/")).unwrap();
        assert_eq!(t.host(), "https://xy12345.privatelink.snowflakecomputing.com");
        assert_eq!(resolve("xy12345", None).unwrap().host(), "https://xy12345.snowflakecomputing.com");
        assert_eq!(resolve("xy12345", Some("  ")).unwrap().base_url, None);
        for bad in [
            "http://snowflake.example.com",
            "ftp://127.0.0.1",
            "https://u:p@host.example.com",
            "https://host.example.com/path",
            "https://host.example.com/?x=1",
            "not a url",
        ] {
            let err = resolve("xy12345", Some(bad)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
        }
    }
}
