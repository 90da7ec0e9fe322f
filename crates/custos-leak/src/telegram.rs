//! Telegram Desktop exports as they really are, streamed in bounded memory.
//!
//! - JSON (`result.json`): a single-chat export `{name, type, id, messages: [...]}` or a full
//!   account export (`chats.list[]`, `left_chats.list[]`, each a chat with `messages`). Telegram
//!   Desktop writes control characters as `\xHH`, which is not JSON; [`JsonMessages`] scans the
//!   byte stream itself, cuts out one message object at a time (so memory is bounded by the
//!   largest message, not the file), rewrites `\xHH` to `\u00HH` where there is one, and
//!   decodes only the fields that matter from that object, without building a JSON tree.
//!   `text` may be a string or an array of strings and `{type, text}` objects; captions,
//!   shared contacts' phone numbers and unknown future fields are handled.
//! - HTML (`messages.html`, `messages2.html`, …): `div.message` blocks with `div.from_name`,
//!   `div.text` and the date in the `title` of `div.date`.
//! - Anything else: plain text or CSV, one message per line.

use std::io::{BufRead, Read};

/// Largest single message accepted (bytes); a bigger one is skipped and reported.
pub const MAX_MESSAGE: usize = 8 << 20;

/// One message, reduced to what leak tracing needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// Chat name.
    pub chat: String,
    /// Message ID.
    pub id: i64,
    /// Posting time (Unix seconds), if known.
    pub date: Option<i64>,
    /// Sender.
    pub from: String,
    /// All searchable text: text, caption, shared contact, forwarded-from.
    pub text: String,
}

/// A problem in an export: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byte {offset}: {message}")]
pub struct ExportError {
    /// Byte offset (JSON) or line (text) where it was noticed.
    pub offset: u64,
    /// What was wrong.
    pub message: String,
}

/// Interpret a Telegram `date` (local time without offset) as UTC-ish seconds; exports made
/// in Bangladesh write local time, so `offset` (seconds east of UTC) converts it.
fn parse_local(s: &str, offset: i64) -> Option<i64> {
    if let Some(t) = custos_detect::time::parse_time(s) {
        return Some(t.unix);
    }
    // `2024-01-05T10:30:00` without offset.
    custos_detect::time::parse_time(&format!("{s}Z")).map(|t| t.unix - offset)
}

/// The decoding of one message object, straight from the bytes: no `serde_json::Value` is built,
/// text is flattened into one buffer as it is read, and every field that does not matter is
/// skipped without being built. Every field is lenient: a value of an unexpected type is
/// skipped, not an error, so future or odd exports still yield their text.
mod decode {
    use std::fmt;

    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

    /// What a visitor does with a value.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Want {
        /// Flatten strings, arrays and `{text}` objects into the buffer.
        Text,
        /// Take a string (or a number written as digits) into the buffer; skip anything else.
        Str,
        /// A shared contact: its phone number and names, each on a line.
        Contact,
    }

    struct Sink<'a> {
        out: &'a mut String,
        want: Want,
    }

    impl<'de> DeserializeSeed<'de> for Sink<'_> {
        type Value = ();

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    /// A key, compared without building it.
    struct Key<'k>(&'k [&'static str]);

    impl<'de> DeserializeSeed<'de> for Key<'_> {
        type Value = Option<usize>;

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
            d.deserialize_str(self)
        }
    }

    impl Visitor<'_> for Key<'_> {
        type Value = Option<usize>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a key")
        }

        fn visit_str<E>(self, v: &str) -> Result<Option<usize>, E> {
            Ok(self.0.iter().position(|k| *k == v))
        }
    }

    impl<'de> Visitor<'de> for Sink<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a Telegram value")
        }

        fn visit_str<E>(self, v: &str) -> Result<(), E> {
            if self.want != Want::Contact {
                self.out.push_str(v);
            }
            Ok(())
        }

        fn visit_i64<E>(self, v: i64) -> Result<(), E> {
            if self.want == Want::Str {
                self.out.push_str(&v.to_string());
            }
            Ok(())
        }

        fn visit_u64<E>(self, v: u64) -> Result<(), E> {
            if self.want == Want::Str {
                self.out.push_str(&v.to_string());
            }
            Ok(())
        }

        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }

        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }

        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            if self.want == Want::Text {
                while seq.next_element_seed(Sink { out: &mut *self.out, want: Want::Text })?.is_some() {}
            } else {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
            }
            Ok(())
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            const TEXT: &[&str] = &["text"];
            const CONTACT: &[&str] = &["phone_number", "first_name", "last_name"];
            let keys = if self.want == Want::Contact { CONTACT } else { TEXT };
            while let Some(k) = map.next_key_seed(Key(keys))? {
                match (self.want, k) {
                    (Want::Text, Some(_)) => {
                        map.next_value_seed(Sink { out: &mut *self.out, want: Want::Text })?
                    }
                    (Want::Contact, Some(_)) => {
                        self.out.push('\n');
                        map.next_value_seed(Sink { out: &mut *self.out, want: Want::Str })?;
                    }
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(())
        }
    }

    /// The fields of a message that matter.
    #[derive(Default)]
    pub(super) struct Raw {
        pub id: String,
        pub date: String,
        pub date_unixtime: String,
        pub from: String,
        pub actor: String,
        pub text: String,
        pub extra: String,
        pub entities: String,
    }

    struct Msg<'a>(&'a mut Raw);

    impl<'de> Visitor<'de> for Msg<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a message object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            const KEYS: &[&str] = &[
                "id",
                "date",
                "date_unixtime",
                "from",
                "actor",
                "text",
                "caption",
                "title",
                "forwarded_from",
                "saved_from",
                "contact_information",
                "text_entities",
            ];
            let r = &mut *self.0;
            while let Some(k) = map.next_key_seed(Key(KEYS))? {
                let (out, want) = match k {
                    Some(0) => (&mut r.id, Want::Str),
                    Some(1) => (&mut r.date, Want::Str),
                    Some(2) => (&mut r.date_unixtime, Want::Str),
                    Some(3) => (&mut r.from, Want::Str),
                    Some(4) => (&mut r.actor, Want::Str),
                    Some(5) => (&mut r.text, Want::Text),
                    Some(6..=9) => {
                        r.extra.push('\n');
                        (&mut r.extra, Want::Text)
                    }
                    Some(10) => (&mut r.extra, Want::Contact),
                    // Entities repeat the text; read them only while there is no text.
                    Some(11) if r.text.trim().is_empty() => (&mut r.entities, Want::Text),
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                };
                map.next_value_seed(Sink { out, want })?;
            }
            Ok(())
        }
    }

    /// Decode one message object.
    pub(super) fn message(bytes: &[u8]) -> Result<Raw, serde_json::Error> {
        let mut r = Raw::default();
        let mut de = serde_json::Deserializer::from_slice(bytes);
        de.deserialize_map(Msg(&mut r))?;
        de.end()?;
        Ok(r)
    }
}

/// Parse one message object (valid JSON bytes) straight into a [`Message`].
pub fn message_from_slice(chat: &str, bytes: &[u8], offset: i64) -> Result<Message, serde_json::Error> {
    let r = decode::message(bytes)?;
    let mut text = r.text;
    if text.trim().is_empty() {
        text.push_str(&r.entities);
    }
    text.push_str(&r.extra);
    let date = r.date_unixtime.trim().parse::<i64>().ok().or_else(|| {
        if r.date.is_empty() {
            None
        } else {
            parse_local(&r.date, offset)
        }
    });
    let from = if r.from.is_empty() { r.actor } else { r.from };
    Ok(Message { chat: chat.to_string(), id: r.id.trim().parse().unwrap_or(0), date, from, text })
}

/// Rewrite Telegram's `\xHH` escapes inside strings as JSON `\u00HH`.
pub fn sanitize(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 16);
    let mut in_str = false;
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if in_str {
            if c == b'\\' && i + 1 < raw.len() {
                if raw[i + 1] == b'x' {
                    out.extend_from_slice(b"\\u00");
                } else {
                    out.push(b'\\');
                    out.push(raw[i + 1]);
                }
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
            }
            // Raw control bytes are not JSON either; escape them.
            if c < 0x20 {
                out.extend_from_slice(format!("\\u{c:04x}").as_bytes());
                i += 1;
                continue;
            }
        } else if c == b'"' {
            in_str = true;
        }
        out.push(c);
        i += 1;
    }
    out
}

#[derive(Debug)]
enum Frame {
    Object { chat_name: String, chat_id: String, expect_key: bool, last_key: String },
    Array { key: Option<String> },
}

/// Streaming reader of the messages of a Telegram JSON export.
pub struct JsonMessages<R: Read> {
    input: std::io::BufReader<R>,
    offset: u64,
    tz_offset: i64,
    stack: Vec<Frame>,
    done: bool,
    /// The message being read, kept between messages.
    raw: Vec<u8>,
    /// Bytes read.
    pub bytes: u64,
}

impl<R: Read> JsonMessages<R> {
    /// Read from `input`; dates without an offset are taken as local time `tz_offset` seconds
    /// east of UTC.
    pub fn new(input: R, tz_offset: i64) -> Self {
        Self {
            input: std::io::BufReader::with_capacity(1 << 16, input),
            offset: 0,
            tz_offset,
            stack: Vec::new(),
            done: false,
            raw: Vec::new(),
            bytes: 0,
        }
    }

    fn byte(&mut self) -> Result<Option<u8>, ExportError> {
        let buf =
            self.input.fill_buf().map_err(|e| ExportError { offset: self.offset, message: e.to_string() })?;
        let Some(&b) = buf.first() else { return Ok(None) };
        self.input.consume(1);
        self.offset += 1;
        self.bytes += 1;
        Ok(Some(b))
    }

    /// Read a JSON string body (after the opening quote), raw bytes kept.
    fn string(&mut self, raw: &mut Vec<u8>) -> Result<(), ExportError> {
        loop {
            let Some(b) = self.byte()? else { return Err(self.eof("a string")) };
            raw.push(b);
            match b {
                b'\\' => {
                    let Some(n) = self.byte()? else { return Err(self.eof("a string")) };
                    raw.push(n);
                }
                b'"' => return Ok(()),
                _ => {}
            }
        }
    }

    fn eof(&self, inside: &str) -> ExportError {
        ExportError { offset: self.offset, message: format!("export ends inside {inside} (truncated file?)") }
    }

    /// Capture one complete value (object or array) starting with `first` into `self.raw`,
    /// scanning the read buffer a chunk at a time; says whether a string in it holds a `\xHH`
    /// escape or a raw control byte (then it needs [`sanitize`]). A value over [`MAX_MESSAGE`]
    /// is skipped (not kept) and reported.
    fn capture(&mut self, first: u8) -> Result<bool, ExportError> {
        let start = self.offset;
        self.raw.clear();
        self.raw.push(first);
        let (mut depth, mut in_str, mut esc, mut oversize, mut dirty) = (1usize, false, false, false, false);
        loop {
            let buf = self
                .input
                .fill_buf()
                .map_err(|e| ExportError { offset: self.offset, message: e.to_string() })?;
            if buf.is_empty() {
                return Err(self.eof("a message"));
            }
            let mut used = buf.len();
            let mut done = false;
            for (i, &b) in buf.iter().enumerate() {
                if in_str {
                    if esc {
                        esc = false;
                        dirty |= b == b'x';
                    } else if b == b'\\' {
                        esc = true;
                    } else if b == b'"' {
                        in_str = false;
                    } else {
                        dirty |= b < 0x20;
                    }
                    continue;
                }
                match b {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            used = i + 1;
                            done = true;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            if !oversize {
                self.raw.extend_from_slice(&buf[..used]);
                if self.raw.len() > MAX_MESSAGE {
                    oversize = true;
                    self.raw = Vec::new();
                }
            }
            self.input.consume(used);
            self.offset += used as u64;
            self.bytes += used as u64;
            if done {
                if oversize {
                    return Err(ExportError {
                        offset: start,
                        message: format!("message larger than {MAX_MESSAGE} bytes skipped"),
                    });
                }
                return Ok(dirty);
            }
        }
    }

    fn chat(&self) -> String {
        for f in self.stack.iter().rev() {
            if let Frame::Object { chat_name, chat_id, .. } = f {
                if !chat_name.is_empty() || !chat_id.is_empty() {
                    return if chat_name.is_empty() { chat_id.clone() } else { chat_name.clone() };
                }
            }
        }
        String::new()
    }

    fn in_messages_array(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Array { key: Some(k) }) if k == "messages")
    }

    fn next_message(&mut self) -> Result<Option<Message>, ExportError> {
        loop {
            let Some(b) = self.byte()? else {
                if self.stack.is_empty() {
                    return Ok(None);
                }
                return Err(self.eof("the export"));
            };
            match b {
                b' ' | b'\n' | b'\r' | b'\t' | b',' => {
                    if b == b',' {
                        if let Some(Frame::Object { expect_key, .. }) = self.stack.last_mut() {
                            *expect_key = true;
                        }
                    }
                }
                b'{' if self.in_messages_array() => {
                    let start = self.offset;
                    // Most messages need no rewriting; only copy when there is a `\x` escape or
                    // a raw control byte.
                    let clean =
                        if self.capture(b'{')? { sanitize(&self.raw) } else { std::mem::take(&mut self.raw) };
                    let m = message_from_slice(&self.chat(), &clean, self.tz_offset)
                        .map(Some)
                        .map_err(|e| ExportError { offset: start, message: format!("bad message: {e}") });
                    if self.raw.is_empty() {
                        // Keep the buffer for the next message.
                        self.raw = clean;
                    }
                    return m;
                }
                b'{' | b'[' => {
                    let key = match self.stack.last() {
                        Some(Frame::Object { last_key, .. }) => Some(last_key.clone()),
                        _ => None,
                    };
                    if b == b'{' {
                        self.stack.push(Frame::Object {
                            chat_name: String::new(),
                            chat_id: String::new(),
                            expect_key: true,
                            last_key: String::new(),
                        });
                    } else {
                        self.stack.push(Frame::Array { key });
                    }
                    if self.stack.len() > 64 {
                        return Err(ExportError {
                            offset: self.offset,
                            message: "nesting deeper than 64".into(),
                        });
                    }
                }
                b'}' | b']' => {
                    if self.stack.pop().is_none() {
                        return Err(ExportError {
                            offset: self.offset,
                            message: "unbalanced bracket".into(),
                        });
                    }
                    if self.stack.is_empty() {
                        self.done = true;
                    }
                }
                b'"' => {
                    let mut raw = vec![b'"'];
                    self.string(&mut raw)?;
                    let s: String = serde_json::from_slice::<String>(&sanitize(&raw)).unwrap_or_default();
                    if let Some(Frame::Object { expect_key, last_key, chat_name, .. }) = self.stack.last_mut()
                    {
                        if *expect_key {
                            *last_key = s;
                            *expect_key = false;
                        } else if last_key == "name" {
                            *chat_name = s;
                        }
                    }
                }
                b':' => {}
                _ => {
                    // A bare value (number, true, false, null): read to the next delimiter.
                    let mut v = vec![b];
                    loop {
                        let buf = self
                            .input
                            .fill_buf()
                            .map_err(|e| ExportError { offset: self.offset, message: e.to_string() })?;
                        match buf.first() {
                            Some(&c) if !matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') => {
                                v.push(c);
                                self.input.consume(1);
                                self.offset += 1;
                                self.bytes += 1;
                            }
                            _ => break,
                        }
                        if v.len() > 64 {
                            return Err(ExportError {
                                offset: self.offset,
                                message: "bad JSON value".into(),
                            });
                        }
                    }
                    if let Some(Frame::Object { last_key, chat_id, .. }) = self.stack.last_mut() {
                        if last_key == "id" {
                            *chat_id = String::from_utf8_lossy(&v).into_owned();
                        }
                    }
                }
            }
        }
    }
}

impl<R: Read> Iterator for JsonMessages<R> {
    type Item = Result<Message, ExportError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_message() {
            Ok(Some(m)) => Some(Ok(m)),
            Ok(None) => None,
            Err(e) => {
                // A truncated file ends the stream; a bad message only skips itself.
                if e.message.contains("truncated")
                    || e.message.contains("unbalanced")
                    || e.message.contains("nesting")
                {
                    self.done = true;
                }
                Some(Err(e))
            }
        }
    }
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let ent = &rest[1..end];
        let c = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" | "#39" => Some('\''),
            "nbsp" => Some(' '),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse::<u32>().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    // `<br>` became nothing; keep words apart.
    decode_entities(&out)
}

fn inner_div(block: &str, class: &str) -> Option<String> {
    let i = block.find(&format!("class=\"{class}"))?;
    let start = block[i..].find('>')? + i + 1;
    // Until the matching closing div (nested divs are rare in these blocks).
    let mut depth = 1;
    let mut j = start;
    while depth > 0 {
        let open = block[j..].find("<div");
        let close = block[j..].find("</div>")?;
        match open {
            Some(o) if o < close => {
                depth += 1;
                j += o + 4;
            }
            _ => {
                depth -= 1;
                if depth == 0 {
                    return Some(strip_tags(&block[start..j + close].replace("<br>", "\n")));
                }
                j += close + 6;
            }
        }
    }
    None
}

/// Parse `dd.mm.yyyy hh:mm:ss UTC+hh:mm` (Telegram HTML date titles).
fn html_date(title: &str, tz_offset: i64) -> Option<i64> {
    let t = title.trim();
    let (date, rest) = t.split_once(' ')?;
    let mut d = date.split('.');
    let (dd, mm, yy) = (d.next()?, d.next()?, d.next()?);
    let (time, zone) = rest.split_once(' ').unwrap_or((rest, ""));
    let iso = format!("{yy}-{mm}-{dd}T{time}");
    let off = zone.strip_prefix("UTC").filter(|z| !z.is_empty()).map(|z| z.to_string());
    match off {
        Some(z) => custos_detect::time::parse_time(&format!("{iso}{z}")).map(|x| x.unix),
        None => parse_local(&iso, tz_offset),
    }
}

/// Messages of one Telegram HTML export page.
pub fn html_messages(page: &str, chat: &str, tz_offset: i64) -> Vec<Message> {
    let mut out = Vec::new();
    let mut last_from = String::new();
    let marker = "<div class=\"message";
    let starts: Vec<usize> = page.match_indices(marker).map(|(i, _)| i).collect();
    for (k, &s) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(page.len());
        let block = &page[s..end];
        if block.starts_with("<div class=\"message service") {
            continue;
        }
        let id = block
            .find("id=\"message")
            .and_then(|i| block[i + 11..].split('"').next())
            .and_then(|n| n.parse::<i64>().ok())
            .unwrap_or(0);
        if let Some(f) = inner_div(block, "from_name") {
            last_from = f.trim().to_string();
        }
        let date_marker = "class=\"pull_right date details\" title=\"";
        let date = block.find(date_marker).and_then(|i| {
            let rest = &block[i + date_marker.len()..];
            rest.split('"').next().and_then(|t| html_date(t, tz_offset))
        });
        let mut text = inner_div(block, "text").unwrap_or_default();
        if let Some(c) = inner_div(block, "media_wrap") {
            text.push('\n');
            text.push_str(&c);
        }
        out.push(Message { chat: chat.to_string(), id, date, from: last_from.clone(), text });
    }
    out
}

/// Messages of a plain-text or CSV dump: one per line, numbered by line.
pub fn text_messages<R: BufRead>(input: R, chat: &str) -> impl Iterator<Item = Message> {
    let chat = chat.to_string();
    input.lines().map_while(Result::ok).enumerate().map(move |(i, l)| Message {
        chat: chat.clone(),
        id: i as i64 + 1,
        date: None,
        from: String::new(),
        text: l,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_chat_with_x_escapes_arrays_and_contacts() {
        let raw = br#"{"name": "Data Bazar", "type": "public_channel", "id": 123,
          "messages": [
            {"id": 1, "type": "message", "date": "2026-03-01T22:15:00", "date_unixtime": "1772381700",
             "from": "seller", "text": "NID 1234567890 \x01 ok"},
            {"id": 2, "type": "message", "date": "2026-03-01T22:16:00", "from": "seller",
             "text": ["call ", {"type": "phone", "text": "+8801712345678"}, " now"], "future_field": {"x": [1,2]}},
            {"id": 3, "type": "service", "action": "pin_message"},
            {"id": 4, "type": "message", "date_unixtime": "1772381900", "contact_information": {"first_name": "K", "phone_number": "01812345678"}},
            {"id": 5, "type": "message", "photo": "p.jpg", "caption": "see 2345678901", "date_unixtime": "1772382000"}
          ]}"#;
        let msgs: Vec<Message> = JsonMessages::new(&raw[..], 6 * 3600).map(Result::unwrap).collect();
        assert_eq!(msgs.len(), 5);
        assert_eq!(msgs[0].chat, "Data Bazar");
        assert_eq!(msgs[0].date, Some(1_772_381_700));
        assert!(msgs[0].text.contains("1234567890"));
        assert!(msgs[1].text.contains("+8801712345678"));
        assert_eq!(msgs[1].date, Some(1_772_381_760)); // local +06:00
        assert!(msgs[3].text.contains("01812345678"));
        assert!(msgs[4].text.contains("2345678901"));
    }

    #[test]
    fn fields_of_unexpected_types_are_skipped_not_fatal() {
        // `from` an object, a null contact, a numeric text part, entities only, an id as a
        // string, a raw newline inside a string, no `date_unixtime`: the text is still read.
        let raw = "{\"name\": \"c\", \"messages\": [
          {\"id\": \"7\", \"from\": {\"x\": 1}, \"actor\": \"adm\", \"contact_information\": null,
           \"date\": \"2026-01-05T10:30:00\", \"text\": [\"NID \", 1234, {\"type\": \"bold\", \"text\": [\"1234567890\"]}],
           \"caption\": {\"text\": \"01712345678\"}},
          {\"id\": 8, \"text\": \"\", \"text_entities\": [{\"type\": \"phone\", \"text\": \"01812345678\"}]},
          {\"id\": 9, \"text\": \"line\nbreak 19901234567890123\", \"date_unixtime\": 1767225600}]}";
        let msgs: Vec<Message> = JsonMessages::new(raw.as_bytes(), 6 * 3600).map(Result::unwrap).collect();
        assert_eq!(msgs.len(), 3);
        assert_eq!((msgs[0].id, msgs[0].from.as_str()), (7, "adm"));
        assert_eq!(msgs[0].text, "NID 1234567890\n01712345678");
        assert_eq!(msgs[0].date, Some(1_767_609_000 - 6 * 3600));
        assert_eq!(msgs[1].text, "01812345678");
        assert_eq!(msgs[2].text, "line\nbreak 19901234567890123");
        assert_eq!(msgs[2].date, Some(1_767_225_600));
    }

    #[test]
    fn account_export_and_truncation() {
        let raw = br#"{"personal_information": {"first_name": "me"}, "chats": {"about": "x", "list": [
            {"name": "A", "id": 1, "messages": [{"id": 1, "text": "01712345678"}]},
            {"name": "B", "id": 2, "messages": [{"id": 7, "text": "x"}, {"id": 8, "text": "y"}]}]},
          "left_chats": {"list": [{"name": "C", "id": 3, "messages": [{"id": 9, "text": "z"}]}]}}"#;
        let msgs: Vec<Message> = JsonMessages::new(&raw[..], 0).map(Result::unwrap).collect();
        let chats: Vec<_> = msgs.iter().map(|m| (m.chat.as_str(), m.id)).collect();
        assert_eq!(chats, vec![("A", 1), ("B", 7), ("B", 8), ("C", 9)]);
        let cut = &raw[..raw.len() / 2];
        let res: Vec<_> = JsonMessages::new(cut, 0).collect();
        assert!(res.iter().any(Result::is_ok));
        assert!(res.last().unwrap().as_ref().is_err_and(|e| e.message.contains("truncated")));
    }

    #[test]
    fn html_page() {
        let page = r#"<div class="message default clearfix" id="message12">
          <div class="body"><div class="pull_right date details" title="01.03.2026 22:15:00 UTC+06:00">22:15</div>
          <div class="from_name">Seller &amp; Co</div>
          <div class="text">NID: 1234567890<br>phone: 01712&#45;345678</div></div></div>
          <div class="message service" id="message13"><div class="body details">joined</div></div>
          <div class="message default clearfix joined" id="message14"><div class="body">
          <div class="text">another 2345678901</div></div></div>"#;
        let m = html_messages(page, "chat", 0);
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].id, m[0].from.as_str(), m[0].date), (12, "Seller & Co", Some(1_772_381_700)));
        assert!(m[0].text.contains("01712-345678"));
        assert_eq!((m[1].id, m[1].from.as_str()), (14, "Seller & Co"));
    }
}
