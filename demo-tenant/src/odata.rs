//! The OData query options the service supports on its collections: `$filter` with `eq`, `ne`,
//! `and`, `or` and parentheses over named string fields (values single-quoted, `''` inside),
//! `$top` (at most 10,000) and `$skip`. Anything else is refused with a 400, never ignored.

use std::collections::BTreeMap;

/// The most items one request may ask for.
pub const MAX_TOP: usize = 10_000;

/// A parsed `$filter`.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `field eq 'value'` (`None`: `eq null`).
    Eq(String, Option<String>),
    /// `field ne 'value'`.
    Ne(String, Option<String>),
    /// Both hold.
    And(Box<Filter>, Box<Filter>),
    /// Either holds.
    Or(Box<Filter>, Box<Filter>),
}

impl Filter {
    /// Whether a record, whose fields `field` reads (`None`: null), matches.
    pub fn matches(&self, field: &dyn Fn(&str) -> Option<String>) -> bool {
        match self {
            Filter::Eq(name, value) => field(name) == *value,
            Filter::Ne(name, value) => field(name) != *value,
            Filter::And(a, b) => a.matches(field) && b.matches(field),
            Filter::Or(a, b) => a.matches(field) || b.matches(field),
        }
    }
}

/// The query options of one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// `$filter`.
    pub filter: Option<Filter>,
    /// `$top`.
    pub top: Option<usize>,
    /// `$skip`.
    pub skip: usize,
    /// `$skiptoken` (the server's own next links).
    pub skiptoken: Option<usize>,
}

/// Reads the query string of a request for a collection whose filterable fields are `fields`
/// (empty: `$filter` not supported). The error is the message of a 400.
pub fn parse_query(raw: Option<&str>, fields: &[&str]) -> Result<Query, String> {
    let mut options: BTreeMap<String, String> = BTreeMap::new();
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(name)?;
        let value = decode(value)?;
        if options.insert(name.clone(), value).is_some() {
            return Err(format!(
                "The query option '{name}' is given more than once."
            ));
        }
    }
    let mut query = Query::default();
    for (name, value) in options {
        match name.as_str() {
            "$filter" if !fields.is_empty() => query.filter = Some(parse_filter(&value, fields)?),
            "$top" => {
                let top: usize = value
                    .parse()
                    .map_err(|_| format!("Invalid value '{value}' for $top."))?;
                if top > MAX_TOP {
                    return Err(format!(
                        "The limit of '{MAX_TOP}' for Top query has been exceeded. The value from the incoming request is '{top}'."
                    ));
                }
                query.top = Some(top);
            }
            "$skip" => {
                query.skip = value
                    .parse()
                    .map_err(|_| format!("Invalid value '{value}' for $skip."))?;
            }
            "$skiptoken" => {
                query.skiptoken = Some(
                    value
                        .parse()
                        .map_err(|_| format!("Invalid value '{value}' for $skiptoken."))?,
                );
            }
            other => return Err(format!("The query option '{other}' is not supported here.")),
        }
    }
    Ok(query)
}

fn decode(text: &str) -> Result<String, String> {
    let plus_as_space = text.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| "The query string is not valid UTF-8.".to_owned())
}

/// Tokens of a filter expression.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            ' ' | '\t' => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Token::Open);
            }
            ')' => {
                chars.next();
                out.push(Token::Close);
            }
            '\'' => {
                chars.next();
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            value.push('\'');
                        }
                        Some('\'') => break,
                        Some(c) => value.push(c),
                        None => return Err("Unterminated string literal in $filter.".to_owned()),
                    }
                }
                out.push(Token::Text(value));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c == ' ' || c == '(' || c == ')' || c == '\'' {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                out.push(Token::Word(word));
            }
        }
    }
    Ok(out)
}

/// Parses `$filter` text over the allowed `fields`.
pub fn parse_filter(text: &str, fields: &[&str]) -> Result<Filter, String> {
    let tokens = tokens(text)?;
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
        fields,
    };
    let filter = parser.or()?;
    if parser.at != tokens.len() {
        return Err(format!("Syntax error in $filter '{text}'."));
    }
    Ok(filter)
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    fields: &'a [&'a str],
}

impl Parser<'_> {
    fn next(&mut self) -> Option<&Token> {
        let token = self.tokens.get(self.at);
        self.at += 1;
        token
    }

    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w == word)
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.peek_word("or") {
            self.at += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.term()?;
        while self.peek_word("and") {
            self.at += 1;
            left = Filter::And(Box::new(left), Box::new(self.term()?));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Filter, String> {
        match self.next().cloned() {
            Some(Token::Open) => {
                let inner = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err("Missing ')' in $filter.".to_owned()),
                }
            }
            Some(Token::Word(field)) => {
                if !self.fields.contains(&field.as_str()) {
                    return Err(format!(
                        "Could not find a property named '{field}' to filter on (supported: {}).",
                        self.fields.join(", ")
                    ));
                }
                let operator = match self.next() {
                    Some(Token::Word(op)) => op.clone(),
                    _ => return Err(format!("Expected an operator after '{field}'.")),
                };
                let value = match self.next() {
                    Some(Token::Text(value)) => Some(value.clone()),
                    Some(Token::Word(word)) if word == "null" => None,
                    _ => {
                        return Err(format!(
                            "Expected a quoted value after '{field} {operator}'."
                        ));
                    }
                };
                match operator.as_str() {
                    "eq" => Ok(Filter::Eq(field, value)),
                    "ne" => Ok(Filter::Ne(field, value)),
                    other => Err(format!("The operator '{other}' is not supported.")),
                }
            }
            _ => Err("Syntax error in $filter.".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[&str] = &["id", "name", "vendor"];

    #[test]
    fn filters_parse_with_precedence_quotes_and_parentheses() {
        let f = parse_filter(
            "vendor eq 'microsoft' or name eq 'O''Reilly' and id ne 'x'",
            FIELDS,
        )
        .unwrap();
        let record = |vendor: &str, name: &str, id: &str| {
            let (v, n, i) = (vendor.to_owned(), name.to_owned(), id.to_owned());
            move |field: &str| match field {
                "vendor" => Some(v.clone()),
                "name" => Some(n.clone()),
                "id" => Some(i.clone()),
                _ => None,
            }
        };
        assert!(f.matches(&record("microsoft", "edge", "x")));
        assert!(f.matches(&record("google", "O'Reilly", "y")));
        assert!(!f.matches(&record("google", "O'Reilly", "x")));
        let grouped =
            parse_filter("(vendor eq 'a' or vendor eq 'b') and (name ne 'c')", FIELDS).unwrap();
        assert!(grouped.matches(&record("b", "d", "")));
        assert!(!grouped.matches(&record("b", "c", "")));
    }

    #[test]
    fn unsupported_filters_are_refused_not_ignored() {
        for bad in [
            "startswith(name,'x')",
            "size eq '1'",
            "name gt 'a'",
            "name eq 'unterminated",
            "name eq 'a' xor name eq 'b'",
            "(name eq 'a'",
            "name eq",
        ] {
            assert!(parse_filter(bad, FIELDS).is_err(), "{bad}");
        }
    }

    #[test]
    fn query_options_are_checked() {
        let q = parse_query(Some("$top=5&$skip=10&$filter=name%20eq%20%27a%27"), FIELDS).unwrap();
        assert_eq!((q.top, q.skip), (Some(5), 10));
        assert!(q.filter.is_some());
        assert!(parse_query(Some("$top=10001"), FIELDS).is_err());
        assert!(parse_query(Some("$orderby=name"), FIELDS).is_err());
        assert!(parse_query(Some("$filter=name eq 'a'"), &[]).is_err());
        assert!(parse_query(Some("$top=1&$top=2"), FIELDS).is_err());
    }
}
