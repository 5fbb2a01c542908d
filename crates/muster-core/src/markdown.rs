//! The safe subset of Markdown people's text renders with, on the web pages and in the
//! HTML report: paragraphs and line breaks as typed, emphasis, strong, strikethrough,
//! inline code and code blocks, lists, quotes, and links (`http`, `https`, `mailto` only;
//! bare `https://…` addresses become links too).
//!
//! The HTML is written here, tag by tag, from an allowlist: raw HTML in the text is shown
//! as text, images show their description, links with any other scheme (`javascript:`,
//! `data:`) show their text only, and every attribute is escaped. Nothing the text says
//! can add a tag, an attribute or a script (property-tested with hostile input).

use crate::report::html_escape;
use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// What the text is: something a person typed (a note, an update, a description, a report
/// section) or a whole report (which may also hold headings and tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Headings become paragraphs; tables are not recognised.
    Text,
    /// Headings and tables are kept.
    Document,
}

/// `text` as HTML in the safe subset.
pub fn to_html(text: &str, flavor: Flavor) -> String {
    let mut options = Options::ENABLE_STRIKETHROUGH;
    if flavor == Flavor::Document {
        options |= Options::ENABLE_TABLES;
    }
    let mut w = Writer {
        out: String::with_capacity(text.len() * 2),
        open: Vec::new(),
        flavor,
        in_code: false,
        in_link: 0,
        in_head: false,
    };
    for event in Parser::new_ext(text, options) {
        w.event(event);
    }
    w.out
}

/// Whether a link destination may be followed: `http(s)://` or `mailto:`, nothing else.
pub fn allowed_link(dest: &str) -> bool {
    let d = dest.trim();
    let lower: String = d.chars().take(8).collect::<String>().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:"))
        && !d.chars().any(|c| c.is_whitespace() || c.is_control())
}

struct Writer {
    out: String,
    /// For each open tag, the closing HTML to write at its end (empty when the tag was
    /// dropped: an image, a link we do not follow).
    open: Vec<&'static str>,
    flavor: Flavor,
    in_code: bool,
    in_link: usize,
    in_head: bool,
}

impl Writer {
    fn event(&mut self, e: Event<'_>) {
        match e {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => self.text(&t),
            Event::Code(t) => {
                self.out.push_str("<code>");
                self.out.push_str(&html_escape(&t));
                self.out.push_str("</code>");
            }
            // Raw HTML is shown as typed, never interpreted.
            Event::Html(t) | Event::InlineHtml(t) => self.out.push_str(&html_escape(&t)),
            // Line breaks are kept as typed.
            Event::SoftBreak | Event::HardBreak => {
                if self.in_code {
                    self.out.push('\n');
                } else {
                    self.out.push_str("<br>\n");
                }
            }
            Event::Rule => self.out.push_str("<hr>\n"),
            // Not enabled; shown as text if they ever appear.
            Event::FootnoteReference(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                self.out.push_str(&html_escape(&t))
            }
            Event::TaskListMarker(done) => self.out.push_str(if done { "[x] " } else { "[ ] " }),
        }
    }

    fn text(&mut self, t: &str) {
        if self.in_code || self.in_link > 0 {
            self.out.push_str(&html_escape(t));
            return;
        }
        // Bare addresses become links.
        let mut rest = t;
        while let Some(at) = find_url(rest) {
            self.out.push_str(&html_escape(&rest[..at]));
            let url_len = rest[at..]
                .find(|c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
                .unwrap_or(rest.len() - at);
            let mut url = &rest[at..at + url_len];
            // Punctuation that ends a sentence is not part of the address.
            while let Some(last) = url.chars().last()
                && matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | ')' | '\'')
            {
                url = &url[..url.len() - last.len_utf8()];
            }
            if url.len() <= "https://".len() || !allowed_link(url) {
                self.out.push_str(&html_escape(url));
            } else {
                self.link_open(url);
                self.out.push_str(&html_escape(url));
                self.out.push_str("</a>");
            }
            rest = &rest[at + url.len()..];
        }
        self.out.push_str(&html_escape(rest));
    }

    fn link_open(&mut self, dest: &str) {
        self.out.push_str("<a href=\"");
        self.out.push_str(&html_escape(dest.trim()));
        self.out
            .push_str("\" rel=\"noopener noreferrer nofollow\">");
    }

    fn start(&mut self, tag: Tag<'_>) {
        let close: &'static str = match tag {
            Tag::Paragraph => {
                self.out.push_str("<p>");
                "</p>\n"
            }
            Tag::Heading { level, .. } if self.flavor == Flavor::Document => {
                let (open, close) = match level {
                    HeadingLevel::H1 => ("<h1>", "</h1>\n"),
                    HeadingLevel::H2 => ("<h2>", "</h2>\n"),
                    HeadingLevel::H3 => ("<h3>", "</h3>\n"),
                    HeadingLevel::H4 => ("<h4>", "</h4>\n"),
                    HeadingLevel::H5 => ("<h5>", "</h5>\n"),
                    HeadingLevel::H6 => ("<h6>", "</h6>\n"),
                };
                self.out.push_str(open);
                close
            }
            Tag::Heading { .. } => {
                self.out.push_str("<p><strong>");
                "</strong></p>\n"
            }
            Tag::BlockQuote(_) => {
                self.out.push_str("<blockquote>\n");
                "</blockquote>\n"
            }
            Tag::CodeBlock(kind) => {
                // The info string (a language) is not used: no attribute to escape.
                let _ = matches!(kind, CodeBlockKind::Fenced(_));
                self.in_code = true;
                self.out.push_str("<pre><code>");
                "</code></pre>\n"
            }
            Tag::List(Some(start)) => {
                if start == 1 {
                    self.out.push_str("<ol>\n");
                } else {
                    self.out.push_str(&format!("<ol start=\"{start}\">\n"));
                }
                "</ol>\n"
            }
            Tag::List(None) => {
                self.out.push_str("<ul>\n");
                "</ul>\n"
            }
            Tag::Item => {
                self.out.push_str("<li>");
                "</li>\n"
            }
            Tag::Emphasis => {
                self.out.push_str("<em>");
                "</em>"
            }
            Tag::Strong => {
                self.out.push_str("<strong>");
                "</strong>"
            }
            Tag::Strikethrough => {
                self.out.push_str("<del>");
                "</del>"
            }
            Tag::Link { dest_url, .. } => {
                self.in_link += 1;
                if allowed_link(&dest_url) {
                    self.link_open(&dest_url);
                    "</a>"
                } else {
                    ""
                }
            }
            Tag::Table(_) => {
                self.out.push_str("<table>\n");
                "</table>\n"
            }
            Tag::TableHead => {
                self.in_head = true;
                self.out.push_str("<thead><tr>");
                "</tr></thead>\n<tbody>\n"
            }
            Tag::TableRow => {
                self.out.push_str("<tr>");
                "</tr>\n"
            }
            Tag::TableCell => {
                if self.in_head {
                    self.out.push_str("<th scope=\"col\">");
                    "</th>"
                } else {
                    self.out.push_str("<td>");
                    "</td>"
                }
            }
            // Images show their description (the text inside), nothing is fetched.
            // Everything else is not enabled; its text is kept.
            _ => "",
        };
        self.open.push(close);
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::CodeBlock => self.in_code = false,
            TagEnd::Link => self.in_link = self.in_link.saturating_sub(1),
            TagEnd::TableHead => self.in_head = false,
            TagEnd::Table => self.out.push_str("</tbody>\n"),
            _ => {}
        }
        if let Some(close) = self.open.pop() {
            self.out.push_str(close);
        }
    }
}

/// Where the first `http://` or `https://` address starts in `s`.
fn find_url(s: &str) -> Option<usize> {
    let a = s.find("https://");
    let b = s.find("http://");
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(s: &str) -> String {
        to_html(s, Flavor::Text)
    }

    #[test]
    fn the_subset_renders() {
        assert_eq!(
            text("**bold** and _it_"),
            "<p><strong>bold</strong> and <em>it</em></p>\n"
        );
        assert_eq!(text("a\nb"), "<p>a<br>\nb</p>\n");
        assert_eq!(
            text("- one\n- two"),
            "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        );
        assert_eq!(text("`x<y`"), "<p><code>x&lt;y</code></p>\n");
        assert_eq!(
            text("```\nfn <a>\n```"),
            "<pre><code>fn &lt;a&gt;\n</code></pre>\n"
        );
        assert_eq!(
            text("[docs](https://example.com/a?b=1&c=2)"),
            "<p><a href=\"https://example.com/a?b=1&amp;c=2\" rel=\"noopener noreferrer nofollow\">docs</a></p>\n"
        );
        assert_eq!(
            text("see https://grafana.example/d/x."),
            "<p>see <a href=\"https://grafana.example/d/x\" rel=\"noopener noreferrer nofollow\">https://grafana.example/d/x</a>.</p>\n"
        );
        assert_eq!(text("# Big"), "<p><strong>Big</strong></p>\n");
        assert_eq!(to_html("# Big", Flavor::Document), "<h1>Big</h1>\n");
    }

    #[test]
    fn hostile_text_stays_text() {
        for (input, banned) in [
            ("<script>alert(1)</script>", "<script"),
            ("<img src=x onerror=alert(1)>", "<img"),
            ("[x](javascript:alert(1))", "href=\"javascript"),
            ("[x](JaVaScRiPt:alert(1))", "href"),
            ("![x](https://evil.example/p.png)", "<img"),
            (
                "<a href=\"https://x\" onclick=\"y\">z</a>",
                "<a href=\"https://x\" onclick",
            ),
            ("[x](https://a\" onmouseover=\"b)", "\" onmouseover"),
            ("<svg/onload=alert(1)>", "<svg"),
            ("[x](data:text/html,<script>)", "href=\"data"),
            ("<https://a.example/\"onmouseover=x>", "\"onmouseover"),
        ] {
            let html = text(input);
            assert!(!html.contains(banned), "{input} → {html}");
        }
    }

    /// Every tag in `html` is one of the allowlist, and every attribute one we write.
    fn only_allowed_markup(html: &str) -> Result<(), String> {
        const TAGS: [&str; 24] = [
            "p",
            "br",
            "strong",
            "em",
            "del",
            "code",
            "pre",
            "ul",
            "ol",
            "li",
            "blockquote",
            "a",
            "hr",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "table",
            "thead",
            "tbody",
            "tr",
            "td",
        ];
        let mut rest = html;
        while let Some(lt) = rest.find('<') {
            let after = &rest[lt + 1..];
            let gt = after.find('>').ok_or("unclosed tag")?;
            let inner = &after[..gt];
            let inner = inner.strip_prefix('/').unwrap_or(inner);
            let name: String = inner
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            if !(TAGS.contains(&name.as_str()) || name == "th") {
                return Err(format!("tag {name:?} in {html}"));
            }
            let attrs = inner[name.len()..].trim();
            let ok = attrs.is_empty()
                || attrs == "scope=\"col\""
                || (name == "ol"
                    && attrs.starts_with("start=\"")
                    && attrs[7..]
                        .trim_end_matches('"')
                        .bytes()
                        .all(|b| b.is_ascii_digit()))
                || (name == "a"
                    && attrs.starts_with("href=\"")
                    && attrs.ends_with("\" rel=\"noopener noreferrer nofollow\"")
                    && {
                        let href = &attrs[6..attrs.len() - 36];
                        !href.contains('"') && allowed_link(&href.replace("&amp;", "&"))
                    });
            if !ok {
                return Err(format!("attributes {attrs:?} on {name} in {html}"));
            }
            rest = &after[gt + 1..];
        }
        Ok(())
    }

    #[test]
    fn known_payloads_render_only_allowed_markup() {
        for p in [
            "<script>alert(1)</script>",
            "\"><script>alert(1)</script>",
            "<img src=x onerror=alert(1)//",
            "<iframe src=javascript:alert(1)>",
            "[a](javascript:alert(1))",
            "[a](  javascript:alert(1) )",
            "[a](java\u{0}script:alert(1))",
            "[a](https://x.example \"title\" )",
            "<details open ontoggle=alert(1)>",
            "*<b>*</b>",
            "```html\n<script>\n```",
            "| a | b |\n|-|-|\n| <img src=x> | 2 |",
            "<!-- comment --><style>*{}</style>",
            "[a]: javascript:alert(1)\n\n[a]",
            "https://a.example/\"><script>",
        ] {
            only_allowed_markup(&text(p)).unwrap();
            only_allowed_markup(&to_html(p, Flavor::Document)).unwrap();
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn any_text_renders_only_allowed_markup(
            s in proptest::collection::vec(prop_oneof![
                Just("<".to_owned()), Just(">".to_owned()), Just("\"".to_owned()), Just("'".to_owned()),
                Just("&".to_owned()), Just("[".to_owned()), Just("](".to_owned()), Just(")".to_owned()),
                Just("`".to_owned()), Just("*".to_owned()), Just("_".to_owned()), Just("\n".to_owned()),
                Just("javascript:".to_owned()), Just("https://".to_owned()), Just("script".to_owned()),
                Just(" onerror=".to_owned()), Just("![".to_owned()), Just("|".to_owned()), Just("-".to_owned()),
                Just("#".to_owned()), Just("<img src=x".to_owned()), Just("mailto:".to_owned()),
                "[a-z0-9 ]{0,5}",
                any::<char>().prop_map(|c| c.to_string()),
            ], 0..40)
        ) {
            let s: String = s.concat();
            prop_assert!(only_allowed_markup(&text(&s)).is_ok(), "{:?}", only_allowed_markup(&text(&s)));
            prop_assert!(only_allowed_markup(&to_html(&s, Flavor::Document)).is_ok());
        }
    }
}
