//! Secret scanner and redactor (work in progress).
