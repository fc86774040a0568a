//! The Falco condition language, parsed into an [`Expr`] tree.
//!
//! The grammar and lexing rules follow libsinsp's hand-written parser so that any condition Falco
//! accepts parses here to the same tree: `or` binds loosest, then `and`, then `not`; a check is a
//! field (a name with at least one dot, optionally with an `[argument]`) or a transformer over a
//! field, then an operator and its operand; a bare identifier is a macro reference. Bare string
//! values stop at blanks, parentheses, quotes, `=` and `,`, exactly like Falco's, because rule
//! files rely on that (`ka.target.name=system:coredns`, `(create,update,patch)`).

use std::fmt;

/// Nesting bound, counted in parser frames like libsinsp's (about five frames per parenthesis).
/// Keeps hostile conditions from exhausting the stack.
const MAX_DEPTH: u32 = 500;

/// A parse error with the byte offset in the condition where it was noticed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    IContains,
    BContains,
    StartsWith,
    BStartsWith,
    EndsWith,
    Glob,
    IGlob,
    Regex,
    In,
    Intersects,
    PMatch,
}

impl Op {
    pub fn from_name(name: &str) -> Option<Op> {
        Some(match name {
            "=" | "==" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "contains" => Op::Contains,
            "icontains" => Op::IContains,
            "bcontains" => Op::BContains,
            "startswith" => Op::StartsWith,
            "bstartswith" => Op::BStartsWith,
            "endswith" => Op::EndsWith,
            "glob" => Op::Glob,
            "iglob" => Op::IGlob,
            "regex" => Op::Regex,
            "in" => Op::In,
            "intersects" => Op::Intersects,
            "pmatch" => Op::PMatch,
            _ => return None,
        })
    }

    pub fn takes_list(self) -> bool {
        matches!(self, Op::In | Op::Intersects | Op::PMatch)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transformer {
    ToLower,
    ToUpper,
    B64,
    Basename,
    Len,
}

impl Transformer {
    fn from_name(name: &str) -> Option<Transformer> {
        Some(match name {
            "tolower" => Transformer::ToLower,
            "toupper" => Transformer::ToUpper,
            "b64" => Transformer::B64,
            "basename" => Transformer::Basename,
            "len" => Transformer::Len,
            _ => return None,
        })
    }
}

/// A field reference, possibly wrapped in transformers (innermost applied first).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldRef {
    pub name: String,
    pub arg: Option<String>,
    pub transformers: Vec<Transformer>,
    pub offset: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// One value: a quoted or bare string, or a number.
    Value(String),
    /// A parenthesised value list (possibly empty).
    List(Vec<String>),
    /// A field on the right-hand side: `val(field)` or a transformer over a field.
    Field(FieldRef),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// A macro reference.
    Ident { name: String, offset: usize },
    Exists { field: FieldRef, offset: usize },
    Compare { field: FieldRef, op: Op, operand: Operand, offset: usize },
}

/// Parses a whole condition.
pub fn parse(input: &str) -> Result<Expr, ParseError> {
    if input.is_empty() {
        return Err(ParseError { offset: 0, message: "filter input string is empty".into() });
    }
    let mut parser = Parser { input, pos: 0, depth: 0, last: String::new() };
    let expr = parser.parse_or()?;
    if parser.pos != input.len() {
        return Err(parser.error(format!(
            "unexpected token after '{}', expecting 'or', 'and'",
            parser.last
        )));
    }
    Ok(expr)
}

struct Parser<'a> {
    input: &'a str,
    pos: usize,
    depth: u32,
    /// The last token read, for error messages.
    last: String,
}

const STR_OPS: [&str; 12] = [
    "==", "=", "!=", "glob ", "iglob ", "contains ", "icontains ", "bcontains ", "startswith ",
    "bstartswith ", "endswith ", "regex ",
];
const NUM_OPS: [&str; 4] = ["<=", "<", ">=", ">"];
const LIST_OPS: [&str; 3] = ["intersects", "in", "pmatch"];
const TRANSFORMERS: [&str; 5] = ["tolower(", "toupper(", "b64(", "basename(", "len("];

impl<'a> Parser<'a> {
    fn error(&self, message: String) -> ParseError {
        ParseError { offset: self.pos, message }
    }

    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!("exceeded max depth limit of {MAX_DEPTH}")));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn blank(&mut self) -> bool {
        let rest = self.rest().as_bytes();
        let n = rest.iter().take_while(|c| matches!(c, b' ' | b'\t' | b'\x08' | b'\r' | b'\n')).count();
        self.pos += n;
        n > 0
    }

    fn lex_str(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            self.last = token.to_string();
            return true;
        }
        false
    }

    fn lex_any(&mut self, tokens: &[&'static str]) -> Option<&'static str> {
        tokens.iter().copied().find(|token| self.lex_str(token))
    }

    /// Consumes the longest prefix whose bytes satisfy `first` then `next`.
    fn lex_while(&mut self, first: impl Fn(u8) -> bool, next: impl Fn(u8) -> bool) -> Option<&'a str> {
        let bytes = self.rest().as_bytes();
        if bytes.first().is_none_or(|&c| !first(c)) {
            return None;
        }
        let len = 1 + bytes[1..].iter().take_while(|&&c| next(c)).count();
        let token = &self.rest()[..len];
        self.pos += len;
        self.last = token.to_string();
        Some(token)
    }

    fn lex_identifier(&mut self) -> Option<&'a str> {
        self.lex_while(|c| c.is_ascii_alphabetic(), |c| c.is_ascii_alphanumeric() || c == b'_')
    }

    /// `[a-zA-Z]+[a-zA-Z0-9_]*(\.[a-zA-Z]+[a-zA-Z0-9_]*)+`: a name with at least one dot.
    fn lex_field_name(&mut self) -> Option<&'a str> {
        let bytes = self.rest().as_bytes();
        let segment = |from: usize| -> usize {
            if bytes.get(from).is_none_or(|c| !c.is_ascii_alphabetic()) {
                return 0;
            }
            1 + bytes[from + 1..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count()
        };
        let mut end = segment(0);
        if end == 0 {
            return None;
        }
        let mut segments = 1;
        while bytes.get(end) == Some(&b'.') {
            let len = segment(end + 1);
            if len == 0 {
                break;
            }
            end += 1 + len;
            segments += 1;
        }
        if segments < 2 {
            return None;
        }
        let token = &self.rest()[..end];
        self.pos += end;
        self.last = token.to_string();
        Some(token)
    }

    fn lex_quoted(&mut self) -> Result<Option<String>, ParseError> {
        let rest = self.rest();
        let Some(delimiter) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            return Ok(None);
        };
        // Like libsinsp, a delimiter preceded by a backslash does not end the string.
        let mut prev = '\\';
        for (i, c) in rest.char_indices() {
            if i > 0 && c == delimiter && prev != '\\' {
                let raw = &rest[1..i];
                self.pos += i + 1;
                self.last = rest[..=i].to_string();
                return Ok(Some(unescape(raw)));
            }
            prev = c;
        }
        Ok(None)
    }

    /// `[^()"'[:space:]=,]+`
    fn lex_bare(&mut self) -> Option<&'a str> {
        let ok = |c: u8| !matches!(c, b'(' | b')' | b'"' | b'\'' | b'=' | b',') && !c.is_ascii_whitespace();
        self.lex_while(ok, ok)
    }

    fn lex_number(&mut self) -> Option<&'a str> {
        let bytes = self.rest().as_bytes();
        // hex: 0[xX][0-9a-zA-Z]+
        if bytes.len() > 2 && bytes[0] == b'0' && (bytes[1] | 0x20) == b'x' && bytes[2].is_ascii_alphanumeric() {
            let len = 2 + bytes[2..].iter().take_while(|c| c.is_ascii_alphanumeric()).count();
            return Some(self.take(len));
        }
        // [+\-]?[0-9]+[\.]?[0-9]*([eE][+\-][0-9]+)?
        let mut i = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
        let digits = bytes[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        i += digits;
        if bytes.get(i) == Some(&b'.') {
            i += 1;
        }
        i += bytes[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if matches!(bytes.get(i), Some(b'e' | b'E'))
            && matches!(bytes.get(i + 1), Some(b'+' | b'-'))
            && bytes.get(i + 2).is_some_and(u8::is_ascii_digit)
        {
            i += 2 + bytes[i + 2..].iter().take_while(|c| c.is_ascii_digit()).count();
        }
        Some(self.take(i))
    }

    fn take(&mut self, len: usize) -> &'a str {
        let token = &self.rest()[..len];
        self.pos += len;
        self.last = token.to_string();
        token
    }

    fn parse_or(&mut self) -> Result<Expr, ParseError> {
        self.parse_chain("or", Self::parse_and, Expr::Or)
    }

    fn parse_and(&mut self) -> Result<Expr, ParseError> {
        self.parse_chain("and", Self::parse_not, Expr::And)
    }

    /// `operand (keyword operand)*`, where the keyword must be followed by a blank or `(`.
    fn parse_chain(
        &mut self,
        keyword: &str,
        operand: fn(&mut Self) -> Result<Expr, ParseError>,
        join: fn(Vec<Expr>) -> Expr,
    ) -> Result<Expr, ParseError> {
        self.enter()?;
        self.blank();
        let mut children = vec![operand(self)?];
        self.blank();
        while self.lex_str(keyword) {
            let child = if self.blank() {
                operand(self)?
            } else if self.lex_str("(") {
                self.parse_embedded()?
            } else {
                return Err(self.error(format!("expected blank or '(' after '{keyword}'")));
            };
            children.push(child);
            self.blank();
        }
        self.leave();
        Ok(if children.len() == 1 { children.pop().unwrap() } else { join(children) })
    }

    fn parse_not(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        self.blank();
        let mut negate = false;
        // `not` followed by at least one blank; each one toggles.
        loop {
            let rest = self.rest().as_bytes();
            if rest.starts_with(b"not") && rest.get(3).is_some_and(|c| c.is_ascii_whitespace()) {
                self.pos += 3;
                self.blank();
                negate = !negate;
            } else {
                break;
            }
        }
        let child = if self.lex_str("not(") {
            negate = !negate;
            self.parse_embedded()?
        } else {
            self.parse_check()?
        };
        self.leave();
        Ok(if negate { Expr::Not(Box::new(child)) } else { child })
    }

    /// The rest of a parenthesised expression, after its `(`.
    fn parse_embedded(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        self.blank();
        let child = self.parse_or()?;
        self.blank();
        if !self.lex_str(")") {
            return Err(self.error("expected a ')' token".into()));
        }
        self.leave();
        Ok(child)
    }

    fn parse_check(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        self.blank();
        let offset = self.pos;
        let result = if self.lex_str("(") {
            self.parse_embedded()
        } else if let Some(name) = self.lex_field_name() {
            let field = self.parse_field_rest(name, offset)?;
            self.parse_condition(field, offset)
        } else if let Some(transformer) = self.lex_any(&TRANSFORMERS) {
            let field = self.parse_transformer_rest(transformer, offset)?;
            self.parse_condition(field, offset)
        } else if let Some(name) = self.lex_identifier() {
            Ok(Expr::Ident { name: name.to_string(), offset })
        } else {
            Err(self.error("expected a '(' token, a field check, or an identifier".into()))
        };
        self.leave();
        result
    }

    fn parse_field_rest(&mut self, name: &str, offset: usize) -> Result<FieldRef, ParseError> {
        let mut field = FieldRef { name: name.to_string(), arg: None, transformers: Vec::new(), offset };
        if self.lex_str("[") {
            let arg = match self.lex_quoted()? {
                Some(arg) => arg,
                None => {
                    // `[^][\"'[:space:]]+`
                    let ok = |c: u8| !matches!(c, b'[' | b']' | b'"' | b'\'') && !c.is_ascii_whitespace();
                    self.lex_while(ok, ok)
                        .ok_or_else(|| {
                            self.error("expected a valid field argument: a quoted string or a bare string".into())
                        })?
                        .to_string()
                }
            };
            field.arg = Some(arg);
            if !self.lex_str("]") {
                return Err(self.error("expected a ']' token".into()));
            }
        }
        Ok(field)
    }

    /// After `name(`: a field or a nested transformer, then `)`.
    fn parse_transformer_rest(&mut self, transformer: &str, offset: usize) -> Result<FieldRef, ParseError> {
        self.enter()?;
        let kind = Transformer::from_name(transformer.trim_end_matches('(')).expect("table entry");
        self.blank();
        let inner_offset = self.pos;
        let mut field = if let Some(nested) = self.lex_any(&TRANSFORMERS) {
            self.parse_transformer_rest(nested, inner_offset)?
        } else if let Some(name) = self.lex_field_name() {
            self.parse_field_rest(name, inner_offset)?
        } else {
            return Err(self.error(
                "expected a field or a nested valid transformer: 'val', 'tolower', 'toupper', 'b64', 'basename', 'len'"
                    .into(),
            ));
        };
        self.blank();
        if !self.lex_str(")") {
            return Err(self.error("expected a ')' token closing the transformer".into()));
        }
        field.transformers.push(kind);
        field.offset = offset;
        self.leave();
        Ok(field)
    }

    fn parse_condition(&mut self, field: FieldRef, offset: usize) -> Result<Expr, ParseError> {
        self.enter()?;
        self.blank();
        let result = if self.lex_str("exists") {
            Ok(Expr::Exists { field, offset })
        } else if let Some(op) = self.lex_any(&NUM_OPS) {
            let operand = self.parse_num_operand()?;
            Ok(Expr::Compare { field, op: Op::from_name(op).unwrap(), operand, offset })
        } else if let Some(op) = self.lex_any(&STR_OPS) {
            let operand = self.parse_str_operand(false)?;
            Ok(Expr::Compare { field, op: Op::from_name(op.trim_end()).unwrap(), operand, offset })
        } else if let Some(op) = self.lex_any(&LIST_OPS) {
            let operand = self.parse_list_operand()?;
            Ok(Expr::Compare { field, op: Op::from_name(op).unwrap(), operand, offset })
        } else {
            Err(self.error(
                "expected a valid check operator: one of 'exists', '<=', '<', '>=', '>', '==', '=', '!=', 'glob', \
                 'iglob', 'contains', 'icontains', 'bcontains', 'startswith', 'bstartswith', 'endswith', 'regex', \
                 'intersects', 'in', 'pmatch'"
                    .into(),
            ))
        };
        self.leave();
        result
    }

    fn parse_num_operand(&mut self) -> Result<Operand, ParseError> {
        self.blank();
        if let Some(field) = self.try_field_operand()? {
            return Ok(Operand::Field(field));
        }
        match self.lex_number() {
            Some(number) => Ok(Operand::Value(number.to_string())),
            None => Err(self.error("expected a number value or a field with a valid transformer".into())),
        }
    }

    fn parse_str_operand(&mut self, in_list: bool) -> Result<Operand, ParseError> {
        self.blank();
        if !in_list {
            if let Some(field) = self.try_field_operand()? {
                return Ok(Operand::Field(field));
            }
        }
        if let Some(value) = self.lex_quoted()? {
            return Ok(Operand::Value(value));
        }
        if let Some(value) = self.lex_bare() {
            return Ok(Operand::Value(value.to_string()));
        }
        Err(self.error(if in_list {
            "expected a string value".into()
        } else {
            "expected a string value or a field with a valid transformer".into()
        }))
    }

    fn parse_list_operand(&mut self) -> Result<Operand, ParseError> {
        self.blank();
        if self.lex_str("(") {
            self.blank();
            let mut values = Vec::new();
            let start = self.pos;
            match self.parse_str_operand(true) {
                Ok(Operand::Value(first)) => {
                    values.push(first);
                    self.blank();
                    while self.lex_str(",") {
                        match self.parse_str_operand(true)? {
                            Operand::Value(value) => values.push(value),
                            _ => unreachable!("lists hold values only"),
                        }
                        self.blank();
                    }
                }
                // An empty list: rewind to where the first value would have started.
                _ => self.pos = start,
            }
            if !self.lex_str(")") {
                return Err(self.error("expected a ')' token".into()));
            }
            return Ok(Operand::List(values));
        }
        if let Some(field) = self.try_field_operand()? {
            return Ok(Operand::Field(field));
        }
        if let Some(name) = self.lex_identifier() {
            return Ok(Operand::Value(name.to_string()));
        }
        Err(self.error("expected a list, an identifier, or a field with a valid transformer".into()))
    }

    /// `val(field)` or a transformer over a field, as a right-hand operand.
    fn try_field_operand(&mut self) -> Result<Option<FieldRef>, ParseError> {
        self.blank();
        let offset = self.pos;
        if self.lex_str("val(") {
            self.blank();
            let field_offset = self.pos;
            let Some(name) = self.lex_field_name() else {
                return Err(self.error("expected a field within 'val' transformer".into()));
            };
            let field = self.parse_field_rest(name, field_offset)?;
            self.blank();
            if !self.lex_str(")") {
                return Err(self.error("expected a ')' token closing the transformer".into()));
            }
            return Ok(Some(field));
        }
        if let Some(transformer) = self.lex_any(&TRANSFORMERS) {
            return Ok(Some(self.parse_transformer_rest(transformer, offset)?));
        }
        Ok(None)
    }
}

/// Resolves backslash escapes in a quoted string. Unknown escapes keep the backslash, so
/// patterns written for regex or glob survive.
fn unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\'') => out.push('\''),
            Some('\\') => out.push('\\'),
            Some('/') => out.push('/'),
            Some('b') => out.push('\x08'),
            Some('f') => out.push('\x0c'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// 1-based line and column of a byte offset, for error messages.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.bytes().filter(|&c| c == b'\n').count() as u32 + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, offset: usize) -> FieldRef {
        FieldRef { name: name.into(), arg: None, transformers: vec![], offset }
    }

    #[test]
    fn precedence_or_and_not() {
        let expr = parse("a or b and not c").unwrap();
        let Expr::Or(children) = expr else { panic!("{expr:?}") };
        assert_eq!(children.len(), 2);
        let Expr::And(and) = &children[1] else { panic!() };
        assert!(matches!(&and[1], Expr::Not(inner) if matches!(**inner, Expr::Ident { ref name, .. } if name == "c")));
    }

    #[test]
    fn double_not_cancels_and_not_paren() {
        assert_eq!(parse("not not a").unwrap(), Expr::Ident { name: "a".into(), offset: 8 });
        assert!(matches!(parse("not(a)").unwrap(), Expr::Not(_)));
        assert!(matches!(parse("a and(b)").unwrap(), Expr::And(_)));
    }

    #[test]
    fn bare_values_stop_at_delimiters() {
        let expr = parse("ka.target.name=system:coredns").unwrap();
        assert_eq!(
            expr,
            Expr::Compare {
                field: field("ka.target.name", 0),
                op: Op::Eq,
                operand: Operand::Value("system:coredns".into()),
                offset: 0
            }
        );
        let Expr::Compare { operand, .. } = parse("ka.verb in (create,update, \"pa tch\")").unwrap() else {
            panic!()
        };
        assert_eq!(operand, Operand::List(vec!["create".into(), "update".into(), "pa tch".into()]));
    }

    #[test]
    fn field_arguments_and_transformers() {
        let Expr::Compare { field, operand, .. } = parse("jevt.value[/stage]=ResponseStarted").unwrap() else {
            panic!()
        };
        assert_eq!(field.arg.as_deref(), Some("/stage"));
        assert_eq!(operand, Operand::Value("ResponseStarted".into()));
        let Expr::Compare { field, operand, .. } =
            parse("toupper(tolower(ka.user.name)) = val(ka.target.name)").unwrap()
        else {
            panic!()
        };
        assert_eq!(field.transformers, vec![Transformer::ToLower, Transformer::ToUpper]);
        assert!(matches!(operand, Operand::Field(f) if f.name == "ka.target.name"));
        let Expr::Exists { field, .. } = parse("ka.uri.param[\"a b\"] exists").unwrap() else { panic!() };
        assert_eq!(field.arg.as_deref(), Some("a b"));
    }

    #[test]
    fn empty_list_and_numbers() {
        let Expr::Compare { operand, .. } = parse("ka.verb in ()").unwrap() else { panic!() };
        assert_eq!(operand, Operand::List(vec![]));
        let Expr::Compare { operand, op, .. } = parse("ka.response.code >= 400").unwrap() else { panic!() };
        assert_eq!((op, operand), (Op::Ge, Operand::Value("400".into())));
        assert!(parse("ka.response.code > abc").is_err());
    }

    #[test]
    fn errors_carry_offsets() {
        let err = parse("ka.verb = ").unwrap_err();
        assert_eq!(err.offset, 10);
        let err = parse("(a and b").unwrap_err();
        assert!(err.message.contains("')'"), "{err}");
        let err = parse("a b").unwrap_err();
        assert!(err.message.contains("unexpected token after 'a'"), "{err}");
        assert!(parse("").is_err());
        assert!(parse("ka.verb ~ x").unwrap_err().message.contains("operator"));
        assert!(parse("a andb").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "(".repeat(5000) + "a" + &")".repeat(5000);
        assert!(parse(&deep).unwrap_err().message.contains("max depth"));
    }

    #[test]
    fn quoted_strings_unescape() {
        let Expr::Compare { operand, .. } = parse(r#"ka.uri contains "a\"b\\n""#).unwrap() else { panic!() };
        assert_eq!(operand, Operand::Value("a\"b\\n".into()));
        let Expr::Compare { operand, .. } = parse("ka.uri contains 'x y'").unwrap() else { panic!() };
        assert_eq!(operand, Operand::Value("x y".into()));
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
    }
}
