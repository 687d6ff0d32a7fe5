//! A minimal element tree read with `quick-xml`, for the small instrument XML files
//! (RunInfo.xml, RunParameters.xml). Namespaces are ignored (local names only); text and
//! attribute values are unescaped; comments, processing instructions and the DOCTYPE are
//! skipped. Input size, depth and element count are bounded.

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

/// Largest XML file accepted (the largest real RunInfo.xml seen is about 120 KB).
pub const MAX_XML_BYTES: usize = 16 << 20;
/// Deepest element nesting accepted.
const MAX_DEPTH: usize = 64;
/// Most elements accepted in one document.
const MAX_ELEMENTS: usize = 1_000_000;

/// One element: local name, attributes, concatenated text and children, in order.
#[derive(Clone, Debug, Default)]
pub struct Element {
    /// Local name (prefix stripped).
    pub name: String,
    /// Attributes by local name, in document order.
    pub attributes: Vec<(String, String)>,
    /// All direct text content, concatenated and trimmed at both ends.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// The value of the attribute named `name` (exact local name).
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child named `name` (exact local name).
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children named `name` (exact local name).
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// Parse `bytes` into the document's root element; the error is a plain message.
pub fn parse(bytes: &[u8]) -> Result<Element, String> {
    if bytes.len() > MAX_XML_BYTES {
        return Err(format!(
            "{} bytes is larger than the {MAX_XML_BYTES}-byte limit for instrument XML",
            bytes.len()
        ));
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if bytes.starts_with(b"\xff\xfe") || bytes.starts_with(b"\xfe\xff") {
        return Err("UTF-16 XML is not supported".into());
    }
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| format!("malformed XML near byte {position}: {e}"))?;
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err("content after the root element".into());
            }
            Event::Start(start) => {
                count += 1;
                if count > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                    return Err("too many or too deeply nested elements".into());
                }
                stack.push(open(&start, reader.decoder())?);
            }
            Event::Empty(start) => {
                count += 1;
                if count > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                    return Err("too many or too deeply nested elements".into());
                }
                let element = open(&start, reader.decoder())?;
                close(&mut stack, &mut root, element);
            }
            Event::End(_) => {
                let mut element = stack.pop().ok_or("unbalanced end tag")?;
                element.text = element.text.trim().to_string();
                close(&mut stack, &mut root, element);
            }
            Event::Text(text) => {
                let decoded = text.xml10_content().map_err(|e| e.to_string())?;
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&decoded),
                    None if decoded.trim().is_empty() => {}
                    None => return Err("text outside the root element".into()),
                }
            }
            Event::CData(data) => {
                let decoded = data.decode().map_err(|e| e.to_string())?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&decoded);
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = if reference.is_char_ref() {
                    reference
                        .resolve_char_ref()
                        .map_err(|e| e.to_string())?
                        .map(String::from)
                } else {
                    let name = reference.decode().map_err(|e| e.to_string())?;
                    resolve_predefined_entity(&name).map(str::to_string)
                };
                let resolved = resolved.ok_or("reference to an undefined entity")?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element (truncated?)".into());
    }
    root.ok_or_else(|| "no root element".to_string())
}

fn open(start: &BytesStart<'_>, decoder: quick_xml::Decoder) -> Result<Element, String> {
    let name = local(start.local_name().as_ref())?;
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| format!("bad attribute in <{name}>: {e}"))?;
        let key = local(attribute.key.local_name().as_ref())?;
        let value = attribute
            .decoded_and_normalized_value(XmlVersion::Implicit1_0, decoder)
            .map_err(|e| format!("bad attribute value in <{name}>: {e}"))?;
        attributes.push((key, value.into_owned()));
    }
    Ok(Element {
        name,
        attributes,
        ..Element::default()
    })
}

fn local(bytes: &[u8]) -> Result<String, String> {
    std::str::from_utf8(bytes)
        .map(str::to_string)
        .map_err(|_| "element or attribute name is not UTF-8".to_string())
}

fn close(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_elements_attributes_and_entities() {
        let doc = br#"<?xml version="1.0"?><!-- c --><a:Root xmlns:a="x" V="1 &amp; 2"><B>t &lt;&#65;&gt;</B><C/><B>two</B></a:Root>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "Root");
        assert_eq!(root.attribute("V"), Some("1 & 2"));
        assert_eq!(root.child("B").unwrap().text, "t <A>");
        assert_eq!(root.children_named("B").count(), 2);
        assert!(root.child("C").is_some());
    }

    #[test]
    fn rejects_truncated_and_garbage() {
        assert!(parse(b"<a><b></b>").is_err());
        assert!(parse(b"<a></b>").is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"<a/><b/>").is_err());
        assert!(parse(b"<a>&bogus;</a>").is_err());
    }
}
