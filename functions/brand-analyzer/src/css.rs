//! Stylesheets as rules and declarations (cssparser's tokenizer, so comments, strings and
//! nested blocks are handled as browsers do): each style rule's selector text and its
//! declarations, `@import` targets, `@font-face` blocks; `@media`/`@supports`/`@layer`
//! bodies are read as if they were top level.

use cssparser::{
    AtRuleParser, CowRcStr, DeclarationParser, ParseError, Parser, ParserState,
    QualifiedRuleParser, RuleBodyItemParser, RuleBodyParser, StyleSheetParser,
};

/// One style rule: its selectors as written and its declarations (lower-case names,
/// values without `!important`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rule {
    pub selectors: String,
    pub declarations: Vec<(String, String)>,
}

impl Rule {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.declarations
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Debug, Default)]
pub struct Sheet {
    pub rules: Vec<Rule>,
    pub imports: Vec<String>,
    pub font_faces: Vec<Rule>,
}

/// Parses a whole stylesheet; what cannot be parsed is skipped, as browsers do.
pub fn parse(css: &str) -> Sheet {
    let mut sheet = Sheet::default();
    let mut parser = Parser::new(css);
    let mut top = Top { sheet: &mut sheet };
    for _ in StyleSheetParser::new(&mut parser, &mut top) {}
    sheet
}

/// Declarations of a `style="…"` attribute.
pub fn declarations(style: &str) -> Vec<(String, String)> {
    let mut parser = Parser::new(style);
    let mut decls = Decls;
    RuleBodyParser::new(&mut parser, &mut decls)
        .filter_map(Result::ok)
        .collect()
}

type Error = ParseError<()>;

fn rest<'i>(input: &mut Parser<'i>) -> &'i str {
    let start = input.position();
    while input.next().is_ok() {}
    input.slice_from(start).trim()
}

struct Top<'a> {
    sheet: &'a mut Sheet,
}

enum AtPrelude {
    Import(String),
    FontFace,
    Nested,
    Other,
}

impl<'i> QualifiedRuleParser<'i> for Top<'_> {
    type Prelude = String;
    type QualifiedRule = ();
    type Error = ();

    fn parse_prelude(&mut self, input: &mut Parser<'i>) -> Result<String, Error> {
        Ok(rest(input).to_owned())
    }

    fn parse_block(
        &mut self,
        selectors: String,
        _start: &ParserState,
        input: &mut Parser<'i>,
    ) -> Result<(), Error> {
        let declarations = RuleBodyParser::new(input, &mut Decls)
            .filter_map(Result::ok)
            .collect();
        self.sheet.rules.push(Rule {
            selectors,
            declarations,
        });
        Ok(())
    }
}

impl<'i> AtRuleParser<'i> for Top<'_> {
    type Prelude = AtPrelude;
    type AtRule = ();
    type Error = ();

    fn parse_prelude(
        &mut self,
        name: CowRcStr<'i>,
        input: &mut Parser<'i>,
    ) -> Result<AtPrelude, Error> {
        let prelude = match &*name.to_ascii_lowercase() {
            "import" => AtPrelude::Import(input.expect_url_or_string()?.to_string()),
            "font-face" => AtPrelude::FontFace,
            "media" | "supports" | "layer" | "container" | "document" => AtPrelude::Nested,
            _ => AtPrelude::Other,
        };
        rest(input);
        Ok(prelude)
    }

    fn rule_without_block(&mut self, prelude: AtPrelude, _: &ParserState) -> Result<(), ()> {
        if let AtPrelude::Import(url) = prelude {
            self.sheet.imports.push(url);
        }
        Ok(())
    }

    fn parse_block(
        &mut self,
        prelude: AtPrelude,
        _start: &ParserState,
        input: &mut Parser<'i>,
    ) -> Result<(), Error> {
        match prelude {
            AtPrelude::FontFace => {
                let declarations = RuleBodyParser::new(input, &mut Decls)
                    .filter_map(Result::ok)
                    .collect();
                self.sheet.font_faces.push(Rule {
                    selectors: "@font-face".into(),
                    declarations,
                });
            }
            AtPrelude::Nested => for _ in StyleSheetParser::new(input, self) {},
            AtPrelude::Import(_) | AtPrelude::Other => {
                rest(input);
            }
        }
        Ok(())
    }
}

struct Decls;

impl<'i> DeclarationParser<'i> for Decls {
    type Declaration = (String, String);
    type Error = ();

    fn parse_value(
        &mut self,
        name: CowRcStr<'i>,
        input: &mut Parser<'i>,
        _start: &ParserState,
    ) -> Result<(String, String), Error> {
        let value = rest(input);
        let value = value
            .strip_suffix("!important")
            .unwrap_or(value)
            .trim()
            .to_owned();
        let name = if name.starts_with("--") {
            name.to_string()
        } else {
            name.to_ascii_lowercase()
        };
        Ok((name, value))
    }
}

impl<'i> AtRuleParser<'i> for Decls {
    type Prelude = ();
    type AtRule = (String, String);
    type Error = ();
}

impl<'i> QualifiedRuleParser<'i> for Decls {
    type Prelude = ();
    type QualifiedRule = (String, String);
    type Error = ();
}

impl<'i> RuleBodyItemParser<'i, (String, String), ()> for Decls {
    fn parse_declarations(&self) -> bool {
        true
    }
    fn parse_qualified(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_imports_font_faces_and_media_bodies_are_read() {
        let sheet = parse(
            r#"@import url("base.css"); @import 'more.css' screen;
            /* a comment with { braces } */
            :root { --brand: #C0392B; --Text: #222 }
            h1, h2 { font-family: "Playfair Display", serif; font-weight: 700 !important }
            @media (min-width: 600px) { .btn { background: var(--brand) } }
            @font-face { font-family: "Lato"; src: url(lato.woff2) }
            a { content: "}"; color: #1a73e8 }"#,
        );
        assert_eq!(sheet.imports, ["base.css", "more.css"]);
        let selectors: Vec<_> = sheet.rules.iter().map(|r| r.selectors.as_str()).collect();
        assert_eq!(selectors, [":root", "h1, h2", ".btn", "a"]);
        assert_eq!(sheet.rules[0].get("--Text"), Some("#222"));
        assert_eq!(sheet.rules[1].get("font-weight"), Some("700"));
        assert_eq!(sheet.rules[3].get("color"), Some("#1a73e8"));
        assert_eq!(sheet.font_faces[0].get("font-family"), Some("\"Lato\""));
    }

    #[test]
    fn style_attributes_are_declarations() {
        assert_eq!(
            declarations("color: RED; Background-Color:#fff"),
            [
                ("color".to_owned(), "RED".to_owned()),
                ("background-color".to_owned(), "#fff".to_owned())
            ]
        );
    }
}
