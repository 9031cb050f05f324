//! The checks every request passes before anything else sees it.

use std::io::Read;

/// The largest request accepted, in bytes. Longer material belongs in a document, not a chat.
pub const MAX_REQUEST_BYTES: usize = 8 * 1024;

/// Why a request was refused before planning.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequestError {
    /// Nothing but whitespace.
    #[error("the request is empty: type what you need, e.g. \"show the system status\"")]
    Empty,
    /// Longer than [`MAX_REQUEST_BYTES`].
    #[error(
        "the request is {len} bytes; the limit is {MAX_REQUEST_BYTES} bytes. Shorten it to the \
         question itself (paste logs or manuals as documents, not into the request)"
    )]
    TooLong {
        /// The request's size.
        len: usize,
    },
    /// Bytes that are not UTF-8.
    #[error(
        "the request is not valid UTF-8 text (invalid byte at offset {offset}). Send UTF-8 text; \
         convert other encodings first, e.g. with iconv"
    )]
    NotUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// Reading the input failed.
    #[error("could not read the request: {0}")]
    Read(String),
}

/// Checks a request's text and returns it trimmed.
///
/// # Errors
/// [`RequestError::Empty`] or [`RequestError::TooLong`].
pub fn check_request(text: &str) -> Result<&str, RequestError> {
    if text.len() > MAX_REQUEST_BYTES {
        return Err(RequestError::TooLong { len: text.len() });
    }
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(RequestError::Empty);
    }
    Ok(trimmed)
}

/// Reads a request from `input` (e.g. stdin) without ever holding more than one byte past the
/// limit, and checks it.
///
/// # Errors
/// Any [`RequestError`].
pub fn read_request(input: impl Read) -> Result<String, RequestError> {
    let mut bytes = Vec::new();
    let limit = u64::try_from(MAX_REQUEST_BYTES).unwrap_or(u64::MAX) + 1;
    input
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|err| RequestError::Read(err.to_string()))?;
    if bytes.len() > MAX_REQUEST_BYTES {
        return Err(RequestError::TooLong { len: bytes.len() });
    }
    let text = String::from_utf8(bytes).map_err(|err| RequestError::NotUtf8 {
        offset: err.utf8_error().valid_up_to(),
    })?;
    check_request(&text).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_only_request_is_empty() {
        assert_eq!(check_request(" \n\t "), Err(RequestError::Empty));
        assert_eq!(check_request(""), Err(RequestError::Empty));
    }

    #[test]
    fn request_is_trimmed() {
        assert_eq!(check_request("  status?\n").unwrap(), "status?");
    }

    #[test]
    fn a_one_megabyte_request_is_refused_with_its_size() {
        let huge = "a".repeat(1024 * 1024);
        let err = check_request(&huge).unwrap_err();
        assert_eq!(err, RequestError::TooLong { len: 1024 * 1024 });
        assert!(err.to_string().contains("8192"));
    }

    #[test]
    fn reading_a_huge_input_stops_at_the_limit() {
        let huge = vec![b'x'; 1024 * 1024];
        let err = read_request(huge.as_slice()).unwrap_err();
        assert_eq!(
            err,
            RequestError::TooLong {
                len: MAX_REQUEST_BYTES + 1
            }
        );
    }

    #[test]
    fn non_utf8_input_names_the_offset() {
        let err = read_request(&b"status \xff\xfe please"[..]).unwrap_err();
        assert_eq!(err, RequestError::NotUtf8 { offset: 7 });
        assert!(err.to_string().contains("UTF-8"));
    }

    #[test]
    fn exactly_the_limit_is_accepted() {
        let text = "b".repeat(MAX_REQUEST_BYTES);
        assert_eq!(
            read_request(text.as_bytes()).unwrap().len(),
            MAX_REQUEST_BYTES
        );
    }
}
